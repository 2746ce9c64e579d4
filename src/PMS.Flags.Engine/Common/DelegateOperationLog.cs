namespace PMS.Flags.Engine.Common;

/// <summary>
/// An IOperationLog over three callbacks. The cmdlet assembly uses it instead of implementing the interface itself:
/// a cmdlet-assembly type that implements an engine interface would make PowerShell load the engine while it scans
/// the assembly, before the module initializer has set up the private load context. A failing sink is ignored.
/// </summary>
public sealed class DelegateOperationLog : IOperationLog
{
    private readonly Action<string> verbose;
    private readonly Action<string> warning;
    private readonly Action<string> debug;

    public DelegateOperationLog(Action<string> verbose, Action<string> warning, Action<string> debug)
    {
        this.verbose = verbose;
        this.warning = warning;
        this.debug = debug;
    }

    public void Verbose(string message) => Safely(verbose, message);

    public void Warning(string message) => Safely(warning, message);

    public void Debug(string message) => Safely(debug, message);

    // A log is a sink: whatever happens to it (a closed pipeline, a preference that turns warnings into errors) must
    // never throw into the work that narrates through it, which may be between "flag off" and "rollback recorded".
    private static void Safely(Action<string> sink, string message)
    {
        try
        {
            sink(message);
        }
        catch (Exception)
        {
        }
    }
}
