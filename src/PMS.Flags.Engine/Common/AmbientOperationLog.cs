namespace PMS.Flags.Engine.Common;

/// <summary>
/// Narration for long-lived objects (a connected store outlives the command that connected it): forwards to the log of
/// whichever command is running on the current async flow, and to nowhere when none is.
/// </summary>
public sealed class AmbientOperationLog : IOperationLog
{
    public static readonly AmbientOperationLog Instance = new();
    private static readonly AsyncLocal<IOperationLog?> CurrentLog = new();

    private AmbientOperationLog()
    {
    }

    /// <summary>Sets the log for the current async flow and everything it starts.</summary>
    public static IOperationLog? Current
    {
        get => CurrentLog.Value;
        set => CurrentLog.Value = value;
    }

    public void Verbose(string message) => CurrentLog.Value?.Verbose(message);

    public void Warning(string message) => CurrentLog.Value?.Warning(message);

    public void Debug(string message) => CurrentLog.Value?.Debug(message);
}
