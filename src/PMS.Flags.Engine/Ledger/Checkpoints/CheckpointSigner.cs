using System.Security.Cryptography;

namespace PMS.Flags.Engine.Ledger.Checkpoints;

/// <summary>Signs checkpoints with an ECDSA P-256 private key (SHA-256, IEEE P1363 signature, base64).</summary>
public sealed class CheckpointSigner : IDisposable
{
    private readonly ECDsa key;

    public CheckpointSigner(ECDsa key)
    {
        this.key = key;
        Fingerprint = CheckpointKeys.Fingerprint(key);
    }

    public string Fingerprint { get; }

    public static CheckpointSigner FromPemFile(string path) => new(CheckpointKeys.Load(path, requirePrivate: true));

    /// <summary>The public half, so a session that signs can also check the checkpoints it signed before.</summary>
    public CheckpointKeyRing PublicKeyRing()
    {
        var copy = ECDsa.Create();
        copy.ImportSubjectPublicKeyInfo(key.ExportSubjectPublicKeyInfo(), out _);
        return new CheckpointKeyRing(new[] { copy });
    }

    public Checkpoint Sign(Checkpoint unsigned)
        => unsigned.WithSignature(Convert.ToBase64String(key.SignData(unsigned.SignedPayload(), HashAlgorithmName.SHA256)));

    public void Dispose() => key.Dispose();

    // The private key never leaves this object: not in ToString, not in a property.
    public override string ToString() => $"CheckpointSigner {Fingerprint[..16]}";
}
