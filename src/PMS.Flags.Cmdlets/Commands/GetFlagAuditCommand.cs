using System.Management.Automation;
using PMS.Flags.Cmdlets.Completers;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Ledger;

namespace PMS.Flags.Cmdlets.Commands;

[Cmdlet(VerbsCommon.Get, "FlagAudit")]
[OutputType(typeof(AuditEvent))]
public sealed class GetFlagAuditCommand : FlagCmdletBase
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Key")]
    [ArgumentCompleter(typeof(FlagKeyCompleter))]
    public string? Flag { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(EnvironmentCompleter))]
    public string? Environment { get; set; }

    [Parameter]
    public string[]? EventType { get; set; }

    [Parameter]
    public string? User { get; set; }

    [Parameter]
    public DateTimeOffset? Since { get; set; }

    [Parameter]
    public DateTimeOffset? Until { get; set; }

    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int? First { get; set; }

    [Parameter]
    public ILedger? Ledger { get; set; }

    protected override void ProcessFlagRecord()
    {
        var ledger = ResolveLedger(Ledger);
        var query = new AuditQuery
        {
            Flag = Flag,
            Environment = Environment,
            EventTypes = EventType,
            User = User,
            Since = Since,
            Until = Until,
            First = First,
        };
        WriteVerbose($"Reading audit events from {ledger.Name}.");
        foreach (var auditEvent in ledger.Read(query, CancellationToken))
        {
            WriteObject(auditEvent);
        }
    }
}
