namespace PMS.Flags.Engine.Common;

public sealed class NullOperationLog : IOperationLog
{
    public static readonly NullOperationLog Instance = new();

    private NullOperationLog()
    {
    }

    public void Verbose(string message)
    {
    }

    public void Warning(string message)
    {
    }

    public void Debug(string message)
    {
    }
}
