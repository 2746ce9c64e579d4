using System.Security.Cryptography;

namespace PMS.Flags.Engine.Ledger.Checkpoints;

/// <summary>
/// The public keys an auditor trusts, by fingerprint: after a key rotation the old checkpoints verify with the old key
/// and the new ones with the new key, as long as both are on the ring.
/// </summary>
public sealed class CheckpointKeyRing : IDisposable
{
    private readonly Dictionary<string, ECDsa> keys = new(StringComparer.OrdinalIgnoreCase);

    public CheckpointKeyRing(IEnumerable<ECDsa> publicKeys)
    {
        foreach (var key in publicKeys)
        {
            keys[CheckpointKeys.Fingerprint(key)] = key;
        }
    }

    public IReadOnlyCollection<string> Fingerprints => keys.Keys;

    public static CheckpointKeyRing FromPemFiles(IEnumerable<string> paths)
    {
        var loaded = new List<ECDsa>();
        try
        {
            foreach (var path in paths)
            {
                loaded.Add(CheckpointKeys.Load(path, requirePrivate: false));
            }
        }
        catch
        {
            loaded.ForEach(k => k.Dispose());
            throw;
        }

        return new CheckpointKeyRing(loaded);
    }

    public bool Knows(string fingerprint) => keys.ContainsKey(fingerprint);

    /// <summary>True only when the checkpoint names a key on the ring and that key's signature over its payload holds.</summary>
    public bool Verifies(Checkpoint checkpoint)
    {
        if (!keys.TryGetValue(checkpoint.KeyFingerprint, out var key))
        {
            return false;
        }

        Span<byte> signature = stackalloc byte[128];
        return Convert.TryFromBase64String(checkpoint.Signature, signature, out var written)
            && key.VerifyData(checkpoint.SignedPayload(), signature[..written], HashAlgorithmName.SHA256);
    }

    public void Dispose()
    {
        foreach (var key in keys.Values)
        {
            key.Dispose();
        }
    }
}
