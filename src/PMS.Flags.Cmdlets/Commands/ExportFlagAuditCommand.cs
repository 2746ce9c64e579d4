using System.Management.Automation;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Ledger;

namespace PMS.Flags.Cmdlets.Commands;

[Cmdlet(VerbsData.Export, "FlagAudit", SupportsShouldProcess = true)]
[OutputType(typeof(FileInfo))]
public sealed class ExportFlagAuditCommand : FlagCmdletBase, IDisposable
{
    // The engine's AuditExportWriter, typed as IDisposable: a field of an engine type makes PowerShell's assembly scan
    // load the engine before the module initializer has set up the private load context.
    private IDisposable? export;

    private bool declined;

    // Under -WhatIf nothing is opened: the events are only counted, so the message can say how many would be exported.
    private bool previewing;

    private long previewed;

    private string? target;

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public AuditEvent[] InputObject { get; set; } = Array.Empty<AuditEvent>();

    // A string, not the engine's AuditExportFormat enum: a field of an engine value type would load the engine
    // during PowerShell's assembly scan, before the private load context exists.
    [Parameter(Mandatory = true)]
    [ValidateSet("Json", "Csv", "Html", "Jsonl")]
    public string Format { get; set; } = "Json";

    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Html only: the ledger whose chain and checkpoint verdict the report states (default: the session's).</summary>
    [Parameter]
    public ILedger? Ledger { get; set; }

    /// <summary>Html only: trusted public keys, so the report can say the checkpoint signature was verified.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? PublicKeyPath { get; set; }

    /// <summary>Each event goes to the temporary file as it arrives: an export of a million events holds one of them.</summary>
    protected override void ProcessFlagRecord()
    {
        if (Start() is not { } writer)
        {
            previewed += previewing ? InputObject.Length : 0;
            return;
        }

        foreach (var auditEvent in InputObject)
        {
            writer.Write(auditEvent);
        }
    }

    protected override void EndFlagProcessing()
    {
        if (Start() is not { } writer)
        {
            if (previewing)
            {
                ShouldProcess(target, $"Export {previewed} audit event(s) as {Format}");
            }

            return;
        }

        writer.Commit();
        WriteVerbose($"Exported {writer.Count} audit event(s) to '{target}'.");
        // Through the provider, as Get-Item would: a bare FileInfo lacks the provider's members, so its default view
        // printed an empty Mode, User and Size.
        WriteObject(SessionState.InvokeProvider.Item.Get(new[] { target! }, force: true, literalPath: true), enumerateCollection: true);
    }

    /// <summary>A pipeline that failed or was stopped never reaches EndProcessing: its temporary file is removed here.</summary>
    public void Dispose()
    {
        export?.Dispose();
        export = null;
    }

    /// <summary>The export under way, opened with the first event (or at the end, for none); null after -WhatIf or a "no".</summary>
    private AuditExportWriter? Start()
    {
        if (export is not null || declined || previewing)
        {
            return export as AuditExportWriter;
        }

        var path = ResolvePath(Path);
        if (File.Exists(path) && !Force)
        {
            throw new FlagsException("ExportFileExists", FlagsErrorKind.InvalidOperation, $"'{path}' already exists; pass -Force to replace it.", path);
        }

        target = path;
        if (WhatIfRequested)
        {
            previewing = true;
            return null;
        }

        // -Confirm asks before the first event is written, when their number is not known yet.
        if (!ShouldProcess(path, $"Export audit events as {Format}"))
        {
            declined = true;
            return null;
        }

        var format = Enum.Parse<AuditExportFormat>(Format, ignoreCase: true);
        var writer = AuditExportWriter.Create(path, format, format == AuditExportFormat.Html ? ReportVerdict() : null, DateTimeOffset.UtcNow);
        export = writer;
        return writer;
    }

    /// <summary>The report states the verdict on the ledger as it is now; it is diagnostic, so a broken ledger is reported, not refused.</summary>
    private ChainVerification ReportVerdict()
    {
        var ledger = ResolveLedger(Ledger, verifyOnOpen: false);
        using var keys = PublicKeyPath is null ? null : Engine.Ledger.Checkpoints.CheckpointKeyRing.FromPemFiles(PublicKeyPath.Select(ResolvePath));
        var pending = new AuditSpool(StatePaths.SpoolDirectory()).Pending(ledger).Count;
        return Run((_, ct) => Task.FromResult(ledger is JsonlLedger jsonl
            ? Engine.Ledger.Checkpoints.CheckpointVerifier.Verify(jsonl, jsonl.Checkpoints, keys, null, pending, ct)
            : ledger is Engine.Ledger.Postgres.PostgresLedger postgres ? VerifyPostgres(postgres, keys, pending, ct)
            : ledger.Verify(ct).With(false, null, pending)));
    }

    // Its own method so that Npgsql is loaded only for a PostgreSQL ledger (as in Test-FlagAuditChain); its checkpoints are its own table.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static ChainVerification VerifyPostgres(Engine.Ledger.Postgres.PostgresLedger postgres, Engine.Ledger.Checkpoints.CheckpointKeyRing? keys, int pending, CancellationToken ct)
        => Engine.Ledger.Checkpoints.CheckpointVerifier.Verify(postgres, postgres.Checkpoints, keys, null, pending, ct);
}
