using System.Management.Automation;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Ledger.Checkpoints;
using PMS.Flags.Engine.Reporting;

namespace PMS.Flags.Cmdlets.Commands;

[Cmdlet(VerbsDiagnostic.Test, "FlagAuditChain", DefaultParameterSetName = LedgerSet)]
[OutputType(typeof(ChainVerification))]
public sealed class TestFlagAuditChainCommand : FlagCmdletBase
{
    private const string LedgerSet = "Ledger";
    private const string PathSet = "Path";

    [Parameter(ParameterSetName = LedgerSet)]
    public ILedger? Ledger { get; set; }

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>Trusted PEM public keys (several after a key rotation): checkpoint signatures are checked against them.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? PublicKeyPath { get; set; }

    /// <summary>The checkpoint file; by default &lt;ledger&gt;.checkpoints.jsonl (or the one the ledger was connected with).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? CheckpointPath { get; set; }

    /// <summary>A head hash kept elsewhere (a CI log, an auditor's note): rolled_back when the ledger no longer holds it.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ExpectedHead { get; set; }

    protected override void ProcessFlagRecord()
    {
        if (ParameterSetName == PathSet && !File.Exists(ResolvePath(Path)))
        {
            // A mistyped path must not come back as "Valid: 0 events": an auditor would read that as a clean ledger.
            throw new FlagsException("LedgerNotFound", FlagsErrorKind.ObjectNotFound, $"The ledger file '{ResolvePath(Path)}' does not exist.", ResolvePath(Path));
        }

        // This command diagnoses a broken ledger, so it opens one without verification on open.
        var ledger = ParameterSetName == PathSet ? new JsonlLedger(ResolvePath(Path)) : ResolveLedger(Ledger, verifyOnOpen: false);
        using var keys = PublicKeyPath is null ? null : CheckpointKeyRing.FromPemFiles(PublicKeyPath.Select(ResolvePath));
        var pending = new AuditSpool(StatePaths.SpoolDirectory()).Pending(ledger).Count;
        WriteVerbose($"Verifying the hash chain of {ledger.Name}.");
        var verdict = Run((_, ct) => Task.FromResult(ledger is JsonlLedger jsonl
            ? CheckpointVerifier.Verify(jsonl, CheckpointPath is null ? jsonl.Checkpoints : new JsonlCheckpointStore(ResolvePath(CheckpointPath)), keys, ExpectedHead, pending, ct)
            : ledger is Engine.Ledger.Postgres.PostgresLedger postgres ? VerifyPostgres(postgres, keys, pending, ct)
            : ledger.Verify(ct).With(false, null, pending)));
        if (!verdict.Valid)
        {
            WriteWarning(verdict.Message);
        }

        if (verdict.Pending > 0)
        {
            WriteWarning($"{verdict.Pending} audit event(s) for {ledger.Name} are spooled and not yet in the ledger; Sync-FlagLedger writes them, Get-FlagAudit -IncludePending shows them.");
        }

        if (verdict.SealedHead is not null && new CiReporter().IsGitHubActions)
        {
            // A copy of the sealed head in the pipeline log lives off this machine: pass it back as -ExpectedHead later.
            WriteInformation(new HostInformationMessage { Message = $"::notice title=PMS.Flags sealed ledger head::#{verdict.SealedSequence} {verdict.SealedHead}" }, new[] { "PSHOST" });
        }

        WriteObject(verdict);
    }

    // Its own method so that Npgsql is loaded only for a PostgreSQL ledger; its checkpoints are its own table.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private ChainVerification VerifyPostgres(Engine.Ledger.Postgres.PostgresLedger postgres, CheckpointKeyRing? keys, int pending, CancellationToken ct)
        => CheckpointVerifier.Verify(postgres, postgres.Checkpoints, keys, ExpectedHead, pending, ct);
}
