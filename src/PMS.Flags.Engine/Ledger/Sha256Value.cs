using System.Buffers.Binary;
using System.Globalization;

namespace PMS.Flags.Engine.Ledger;

/// <summary>
/// A SHA-256 digest as a value, not a 64-character string: verifying a ledger keeps two of them per event, and
/// hundreds of thousands of small strings surviving into the older generations make the collector, not the
/// hashing, the cost of a verification.
/// </summary>
public readonly record struct Sha256Value(ulong A, ulong B, ulong C, ulong D)
{
    public static Sha256Value FromDigest(ReadOnlySpan<byte> digest) => new(
        BinaryPrimitives.ReadUInt64BigEndian(digest),
        BinaryPrimitives.ReadUInt64BigEndian(digest[8..]),
        BinaryPrimitives.ReadUInt64BigEndian(digest[16..]),
        BinaryPrimitives.ReadUInt64BigEndian(digest[24..]));

    public static bool TryParse(ReadOnlySpan<char> hex, out Sha256Value value)
    {
        value = default;
        if (hex.Length != 64)
        {
            return false;
        }

        Span<byte> utf8 = stackalloc byte[64];
        for (var i = 0; i < hex.Length; i++)
        {
            if (hex[i] > 0x7F)
            {
                return false;
            }

            utf8[i] = (byte)hex[i];
        }

        return TryParseUtf8(utf8, out value);
    }

    /// <summary>The same parse over UTF-8 digits, so the byte-level chain check accepts exactly the hex the text one does.</summary>
    public static bool TryParseUtf8(ReadOnlySpan<byte> hex, out Sha256Value value)
    {
        value = default;
        if (hex.Length != 64
            || !ulong.TryParse(hex[..16], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var a)
            || !ulong.TryParse(hex[16..32], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var b)
            || !ulong.TryParse(hex[32..48], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var c)
            || !ulong.TryParse(hex[48..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var d))
        {
            return false;
        }

        value = new Sha256Value(a, b, c, d);
        return true;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{A:x16}{B:x16}{C:x16}{D:x16}");
}
