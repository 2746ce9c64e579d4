using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Ledger;

namespace PMS.Flags.Engine.Tests.Support;

/// <summary>A flag document, a ledger and a spool in one temp directory, wired the way the cmdlets wire them.</summary>
public sealed class AuditFixture : IDisposable
{
    private readonly TempDirectory temp = new();

    public AuditFixture(string document, bool ledgerUnwritable = false)
    {
        DocumentPath = temp.WriteText("feature_flags.json", document);
        Store = new LocalFileFlagStore(DocumentPath);
        if (ledgerUnwritable)
        {
            // A regular file where the ledger's directory should be: nothing can create the ledger, even as root.
            BlockingFile = temp.WriteText("afile", "not a directory");
            LedgerPath = Path.Combine(BlockingFile, "ledger.jsonl");
        }
        else
        {
            LedgerPath = temp.Combine("state", "ledger.jsonl");
        }

        Ledger = new JsonlLedger(LedgerPath);
        SpoolDirectory = temp.Combine("state", "spool");
        Audit = new AuditTrail(Ledger, new AuditSpool(SpoolDirectory), NullOperationLog.Instance);
        Operations = new FlagOperations(Store, Audit);
    }

    public string DocumentPath { get; }

    public string? BlockingFile { get; }

    public string LedgerPath { get; }

    public string SpoolDirectory { get; }

    public LocalFileFlagStore Store { get; }

    public JsonlLedger Ledger { get; }

    public AuditTrail Audit { get; }

    public FlagOperations Operations { get; }

    public byte[] DocumentBytes => File.ReadAllBytes(DocumentPath);

    public string[] SpoolFiles => Directory.Exists(SpoolDirectory) ? Directory.GetFiles(SpoolDirectory) : Array.Empty<string>();

    public AuditEvent[] LedgerEvents => Ledger.Read(AuditQuery.All, CancellationToken.None).ToArray();

    public async Task<FlagState> StateAsync(string environment, string flag)
        => (await Store.GetFlagsAsync(environment, flag, CancellationToken.None)).Single();

    public void UnblockLedger()
    {
        File.Delete(BlockingFile!);
    }

    public void Dispose() => temp.Dispose();
}
