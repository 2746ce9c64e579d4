using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Tests.Support;

/// <summary>Keeps what the engine narrates, so tests can assert on warnings.</summary>
public sealed class CapturingLog : IOperationLog
{
    public List<string> Warnings { get; } = new();

    public List<string> Verboses { get; } = new();

    public void Verbose(string message) => Verboses.Add(message);

    public void Warning(string message) => Warnings.Add(message);

    public void Debug(string message)
    {
    }
}
