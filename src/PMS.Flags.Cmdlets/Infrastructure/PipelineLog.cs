using System.Collections.Concurrent;

namespace PMS.Flags.Cmdlets.Infrastructure;

/// <summary>
/// Engine narration arrives on worker threads, but Write-Verbose and friends may only be called on the pipeline
/// thread; this queues them for the pump in FlagCmdletBase. It deliberately does not implement the engine's
/// IOperationLog (see DelegateOperationLog): Engine property is the adapter the engine receives.
/// </summary>
internal sealed class PipelineLog
{
    private readonly BlockingCollection<Action> queue;

    public PipelineLog(BlockingCollection<Action> queue, FlagCmdletBase cmdlet)
    {
        this.queue = queue;
        Engine = new Engine.Common.DelegateOperationLog(
            message => queue.TryAdd(() => cmdlet.WriteVerbose(message)),
            message => queue.TryAdd(() => cmdlet.WriteWarning(message)),
            message => queue.TryAdd(() => cmdlet.WriteDebug(message)));
    }

    public Engine.Common.IOperationLog Engine { get; }

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
