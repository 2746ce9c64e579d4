using System.Management.Automation;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Ledger.Checkpoints;
using PMS.Flags.Engine.Ledger.Postgres;
using PMS.Flags.Engine.Migrations;

namespace PMS.Flags.Cmdlets.Commands;

[Cmdlet(VerbsCommunications.Connect, "FlagLedger", DefaultParameterSetName = JsonlSet)]
[OutputType(typeof(JsonlLedger), typeof(PostgresLedger))]
public sealed class ConnectFlagLedgerCommand : FlagCmdletBase
{
    private const string JsonlSet = "Jsonl";
    private const string PostgresSet = "Postgres";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = JsonlSet)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>An Npgsql connection string or postgresql:// URL; the password may instead come from -Credential, PGPASSWORD or a pgpass file.</summary>
    [Parameter(Mandatory = true, ParameterSetName = PostgresSet)]
    [ValidateNotNullOrEmpty]
    public string ConnectionString { get; set; } = "";

    [Parameter(ParameterSetName = PostgresSet)]
    [Credential]
    public PSCredential? Credential { get; set; }

    /// <summary>The ledger's own schema in that database (created and upgraded on connect).</summary>
    [Parameter(ParameterSetName = PostgresSet)]
    [ValidateNotNullOrEmpty]
    public string Schema { get; set; } = PostgresLedgerSchema.DefaultSchema;

    /// <summary>Seconds to wait for the connection.</summary>
    [Parameter(ParameterSetName = PostgresSet)]
    [ValidateRange(1, 600)]
    public int TimeoutSec { get; set; } = 15;

    [Parameter]
    public SwitchParameter NoDefault { get; set; }

    /// <summary>A PEM ECDSA P-256 private key: every append is then sealed by a signed checkpoint.</summary>
    [Parameter(ParameterSetName = JsonlSet)]
    [Parameter(ParameterSetName = PostgresSet)]
    [ValidateNotNullOrEmpty]
    public string? SigningKeyPath { get; set; }

    /// <summary>Where checkpoints are kept; by default &lt;ledger&gt;.checkpoints.jsonl.</summary>
    [Parameter(ParameterSetName = JsonlSet)]
    [ValidateNotNullOrEmpty]
    public string? CheckpointPath { get; set; }

    /// <summary>Use a ledger that fails verification anyway; for JSONL the next event records that verification was skipped.
    /// A PostgreSQL ledger keeps its checkpoints in its own checkpoints table.</summary>
    [Parameter(ParameterSetName = JsonlSet)]
    [Parameter(ParameterSetName = PostgresSet)]
    public SwitchParameter SkipVerification { get; set; }

    protected override void ProcessFlagRecord()
    {
        if (!NoDefault)
        {
            // Forget the previous default before trying: if this Connect fails, the next change must not be recorded there.
            FlagSession.Current.Ledger = null;
            FlagSession.Current.FailedLedgerConnect = ParameterSetName == PostgresSet ? "-ConnectionString" : $"-Path {Path}";
        }

        ILedger ledger = ParameterSetName == PostgresSet ? OpenPostgres() : OpenJsonl();
        var flush = Run((log, ct) => AuditTrailFor(ledger, log.Engine).FlushSpoolAsync(ct));
        if (flush.Flushed > 0)
        {
            WriteWarning($"Wrote {flush.Flushed} spooled audit event(s) to {ledger.Name}.");
        }

        WriteVerbose($"Connected to ledger {ledger.Name}.");
        if (!NoDefault)
        {
            FlagSession.Current.Ledger = ledger;
            FlagSession.Current.FailedLedgerConnect = null;
        }

        WriteObject(ledger);
    }

    // Its own method so that Npgsql is loaded only when a PostgreSQL ledger is asked for.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private ILedger OpenPostgres()
    {
        var target = DatabaseTarget.Parse(ConnectionString, TimeSpan.FromSeconds(TimeoutSec));
        if (Credential is not null)
        {
            target = target.WithCredential(Credential.UserName, Credential.GetNetworkCredential().Password);
        }

        // The key is read before anything else, so a wrong key file changes nothing.
        var signer = SigningKeyPath is null ? null : CheckpointSigner.FromPemFile(ResolvePath(SigningKeyPath));
        WriteVerbose($"Opening the PostgreSQL ledger {target.Name}, schema {Schema}.");
        var ledger = Run((_, ct) => PostgresLedger.OpenAsync(target, Schema, ct));
        using (var keys = signer?.PublicKeyRing())
        {
            var opened = Run((_, ct) => Task.FromResult(LedgerOpening.VerifyPostgres(ledger, SkipVerification, keys, ct)));
            if (!opened.Valid)
            {
                WriteWarning($"-SkipVerification: using {ledger.Name} although it failed verification at #{opened.FirstBrokenSequence} ({opened.Problem}).");
            }
        }

        ledger.EnsureWritable();
        if (signer is not null)
        {
            ledger.Sealer = new CheckpointSealer(signer, ledger.Checkpoints);
            WriteVerbose($"Sealing every append with key {signer.Fingerprint} into {ledger.Checkpoints.Name}.");
        }

        return ledger;
    }

    private ILedger OpenJsonl()
    {
        var path = ResolvePath(Path);
        var folder = System.IO.Path.GetDirectoryName(path)!;
        if (!Directory.Exists(folder) && !File.Exists(folder))
        {
            // A mistyped folder must not become a second, empty trail somewhere new.
            throw new FlagsException("LedgerFolderNotFound", FlagsErrorKind.ObjectNotFound, $"The folder '{folder}' does not exist; Connect-FlagLedger creates a new ledger file but never folders. Check the path, or create the folder first.", path);
        }

        var isNew = !File.Exists(path) && !Directory.Exists(path);
        var ledger = new JsonlLedger(path);
        if (CheckpointPath is not null)
        {
            ledger.Checkpoints = new JsonlCheckpointStore(ResolvePath(CheckpointPath));
        }

        // The key is read before anything else, so a wrong key file changes nothing.
        var signer = SigningKeyPath is null ? null : CheckpointSigner.FromPemFile(ResolvePath(SigningKeyPath));
        using (var keys = signer?.PublicKeyRing())
        {
            var opened = LedgerOpening.Verify(ledger, SkipVerification, keys, CancellationToken);
            if (!opened.Valid)
            {
                WriteWarning($"-SkipVerification: using '{path}' although it failed verification at #{opened.FirstBrokenSequence} ({opened.Problem}); the next event records this.");
            }
        }

        ledger.EnsureWritable();
        if (signer is not null)
        {
            ledger.Sealer = new CheckpointSealer(signer, ledger.Checkpoints);
            WriteVerbose($"Sealing every append with key {signer.Fingerprint} into {ledger.Checkpoints.Name}.");
        }
        if (isNew)
        {
            // Said as a warning so that a typo shows at once, in a CI log too: a new file means the trail starts again.
            WriteWarning($"'{path}' did not exist: created a NEW, empty ledger. If you meant an existing ledger, check the path.");
        }

        return ledger;
    }
}
