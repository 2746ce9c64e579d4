using System.Management.Automation;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Ledger.Archive;

namespace PMS.Flags.Cmdlets.Commands;

/// <summary>
/// Writes the audit events older than -Before to a JSONL archive file and records that in the ledger. It never deletes
/// an event: the append-only ledger keeps them all (pruning would break the hash chain); the archive is the portable copy.
/// </summary>
[Cmdlet(VerbsData.Save, "FlagAuditArchive", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(AuditArchiveResult))]
public sealed class SaveFlagAuditArchiveCommand : FlagCmdletBase
{
    [Parameter(Mandatory = true)]
    public DateTime Before { get; set; }

    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    [Parameter(Mandatory = true)]
    [ValidateNotBlank]
    public string Reason { get; set; } = "";

    [Parameter]
    public ILedger? Ledger { get; set; }

    /// <summary>How long events must be kept before they may be archived; default six years (HIPAA).</summary>
    [Parameter]
    public TimeSpan RetentionPeriod { get; set; } = TimeSpan.FromDays(6 * 365.25);

    [Parameter]
    public SwitchParameter Force { get; set; }

    [Parameter]
    public string? User { get; set; }

    protected override void ProcessFlagRecord()
    {
        var user = UserIdentity.Resolve(User);
        // An unspecified DateTime (a bare date on the command line) is local time, as Get-Date prints it.
        var before = Before.Kind == DateTimeKind.Utc ? new DateTimeOffset(Before) : new DateTimeOffset(DateTime.SpecifyKind(Before, DateTimeKind.Local));
        AuditArchive.EnsureRetentionElapsed(before, RetentionPeriod, DateTimeOffset.UtcNow);
        var path = ResolvePath(Path);
        if (File.Exists(path) && !Force)
        {
            throw new FlagsException("AuditArchiveFileExists", FlagsErrorKind.InvalidOperation, $"'{path}' already exists; pass -Force to replace it. Nothing was written.", path);
        }

        var ledger = ResolveLedger(Ledger);
        // The archive is recorded in the ledger: a ledger that cannot be written now is refused before the file is written.
        Run(async (_, ct) => { await ledger.EnsureWritableAsync(ct).ConfigureAwait(false); return true; });
        var events = Run((_, ct) => AuditArchive.SelectAsync(ledger, before, ct));
        var range = events.Count == 0 ? "" : $" (#{events[0].Sequence}..#{events[^1].Sequence})";
        if (!ShouldProcess(path, $"Archive {events.Count} audit event(s){range} from {ledger.Name} older than {before.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}; nothing is deleted from the ledger"))
        {
            return;
        }

        var result = AuditArchive.Write(events, path, before, Force);
        var record = Run((log, ct) => AuditTrailFor(ledger, log.Engine).RecordAsync(AuditArchive.ArchivedEvent(result, RetentionPeriod, user, Reason), ct));
        WriteVerbose(record.Spooled ? $"The archive's audit event was spooled to '{record.SpoolPath}'." : $"Recorded the archive as #{record.Sequence} in {ledger.Name}.");
        WriteObject(result);
    }
}
