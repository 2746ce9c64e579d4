using System.Security.Cryptography;
using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Ledger.Checkpoints;

/// <summary>Reading ECDSA P-256 keys from PEM files, with errors that name the file and never its content.</summary>
public static class CheckpointKeys
{
    /// <summary>Hex SHA-256 of the SubjectPublicKeyInfo: the same for a private key and its public half.</summary>
    public static string Fingerprint(ECDsa key) => Convert.ToHexString(SHA256.HashData(key.ExportSubjectPublicKeyInfo())).ToLowerInvariant();

    public static ECDsa Load(string path, bool requirePrivate)
    {
        string text;
        try
        {
            if (Directory.Exists(path) || !File.Exists(path))
            {
                throw new FlagsException("CheckpointKeyNotFound", FlagsErrorKind.ObjectNotFound, $"The key file '{path}' does not exist.", path);
            }

            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new FlagsException("CheckpointKeyNotFound", FlagsErrorKind.ObjectNotFound, $"The key file '{path}' cannot be read ({ex.Message}).", path, ex);
        }

        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(text);
            var parameters = key.ExportParameters(false);
            if (parameters.Curve.Oid?.Value != ECCurve.NamedCurves.nistP256.Oid.Value && parameters.Curve.Oid?.FriendlyName is not ("nistP256" or "ECDSA_P256" or "prime256v1"))
            {
                throw new CryptographicException("the key is not on curve P-256");
            }

            if (requirePrivate)
            {
                // A public key imports as well; signing with it fails only later, after the change was made.
                key.ExportParameters(true);
            }

            return key;
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            key.Dispose();
            var wanted = requirePrivate ? "an ECDSA P-256 private key" : "an ECDSA P-256 public or private key";
            throw new FlagsException("CheckpointKeyMalformed", FlagsErrorKind.InvalidArgument, $"The key file '{path}' is not {wanted} in PEM form ({ex.Message}).", path, ex);
        }
    }
}
