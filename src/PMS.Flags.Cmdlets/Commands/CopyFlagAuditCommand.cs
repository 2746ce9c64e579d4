using System.Management.Automation;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Ledger.Postgres;

namespace PMS.Flags.Cmdlets.Commands;

/// <summary>Copies an audit trail into another ledger (JSONL and PostgreSQL either way), keeping every sequence, hash and signed checkpoint.</summary>
[Cmdlet(VerbsCommon.Copy, "FlagAudit", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(LedgerCopyResult))]
public sealed class CopyFlagAuditCommand : FlagCmdletBase
{
    [Parameter(Mandatory = true)]
    public ILedger From { get; set; } = null!;

    [Parameter(Mandatory = true)]
    public ILedger To { get; set; } = null!;

    [Parameter(Mandatory = true)]
    [ValidateNotBlank]
    public string Reason { get; set; } = "";

    [Parameter]
    public string? User { get; set; }

    protected override void ProcessFlagRecord()
    {
        var user = UserIdentity.Resolve(User);
        WriteVerbose($"Checking {From.Name} and {To.Name} before copying.");
        var plan = Run((_, ct) => LedgerCopy.PlanAsync(From, To, ct));
        if (!ShouldProcess(To.Name, $"Copy {plan.Copied} audit event(s) and {plan.CheckpointsCopied} signed checkpoint(s) from {From.Name} (the target holds the first {plan.AlreadyPresent} event(s) and {plan.CheckpointsAlreadyPresent} checkpoint(s) already)"))
        {
            return;
        }

        var result = Run((_, ct) => LedgerCopy.CopyAsync(From, To, plan, ct));
        var record = Run((log, ct) => AuditTrailFor(To, log.Engine).RecordAsync(LedgerCopy.CopiedEvent(result, user, Reason), ct));
        WriteVerbose(record.Spooled ? $"The copy's audit event was spooled to '{record.SpoolPath}'." : $"Recorded the copy as #{record.Sequence} in {To.Name}.");
        WriteObject(result);
    }
}
