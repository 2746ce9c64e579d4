using System.Collections.Concurrent;
using PMS.Flags.Engine.Common;

namespace PMS.Flags.Cmdlets.Infrastructure;

/// <summary>
/// Engine narration arrives on worker threads, but Write-Verbose and friends may only be called on the pipeline
/// thread; this queues them for the pump in FlagCmdletBase. It implements the engine's IOperationLog itself: the
/// loader nested module resolves the engine before PowerShell scans this assembly, so no delegate adapter is needed.
/// </summary>
internal sealed class PipelineLog : IOperationLog
{
    private readonly BlockingCollection<Action> queue;
    private readonly FlagCmdletBase cmdlet;

    public PipelineLog(BlockingCollection<Action> queue, FlagCmdletBase cmdlet)
    {
        this.queue = queue;
        this.cmdlet = cmdlet;
    }

    /// <summary>The log the engine receives: this queue.</summary>
    public IOperationLog Engine => this;

    public void Verbose(string message) => Post(() => cmdlet.WriteVerbose(message));

    public void Warning(string message) => Post(() => cmdlet.WriteWarning(message));

    public void Debug(string message) => Post(() => cmdlet.WriteDebug(message));

    public void Post(Action action)
    {
        try
        {
            queue.TryAdd(action);
        }
        catch (Exception ex) when (ex is ObjectDisposedException or InvalidOperationException)
        {
            // The pump has stopped; the engine's work goes on regardless.
        }
    }
}
