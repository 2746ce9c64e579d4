using System.Text;

namespace PMS.Flags.Engine.Tests.Support;

public static class Bytes
{
    public static readonly UTF8Encoding Utf8 = new(false);

    public static byte[] Of(string text) => Utf8.GetBytes(text);

    /// <summary>
    /// Asserts that <paramref name="after"/> equals <paramref name="before"/> with exactly the bytes of
    /// <paramref name="oldValue"/> (at its single occurrence after <paramref name="anchor"/>) replaced by <paramref name="newValue"/>:
    /// every byte before and after the value is identical.
    /// </summary>
    public static void AssertOnlyValueChanged(byte[] before, byte[] after, string anchor, string oldValue, string newValue)
    {
        var beforeText = Utf8.GetString(before);
        var anchorAt = beforeText.IndexOf(anchor, StringComparison.Ordinal);
        Assert.True(anchorAt >= 0, $"anchor {anchor} not found");
        var valueAt = beforeText.IndexOf(oldValue, anchorAt + anchor.Length, StringComparison.Ordinal);
        Assert.True(valueAt >= 0, $"old value {oldValue} not found after {anchor}");

        var prefixLength = Utf8.GetByteCount(beforeText.AsSpan(0, valueAt));
        var oldLength = Utf8.GetByteCount(oldValue);
        var newLength = Utf8.GetByteCount(newValue);
        var suffixLength = before.Length - prefixLength - oldLength;

        Assert.Equal(before.Length - oldLength + newLength, after.Length);
        Assert.Equal(before.AsSpan(0, prefixLength).ToArray(), after.AsSpan(0, prefixLength).ToArray());
        Assert.Equal(Of(newValue), after.AsSpan(prefixLength, newLength).ToArray());
        Assert.Equal(before.AsSpan(prefixLength + oldLength, suffixLength).ToArray(), after.AsSpan(prefixLength + newLength, suffixLength).ToArray());
    }
}
