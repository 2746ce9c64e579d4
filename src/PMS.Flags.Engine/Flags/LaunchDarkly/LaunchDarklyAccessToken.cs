using System.Runtime.InteropServices;
using System.Security;
using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Flags.LaunchDarkly;

/// <summary>
/// A LaunchDarkly API access token, held in a read-only <see cref="SecureString"/> copy. It is turned into text only
/// while one request's <c>Authorization</c> header is built, and never appears in ToString, a message or a property.
/// </summary>
public sealed class LaunchDarklyAccessToken : IDisposable
{
    public const string EnvironmentVariable = "LD_API_KEY";
    private readonly SecureString secret;

    /// <summary>Copies <paramref name="token"/>; the caller keeps (and may dispose) its own instance.</summary>
    public LaunchDarklyAccessToken(SecureString token)
    {
        ArgumentNullException.ThrowIfNull(token);
        secret = token.Copy();
        secret.MakeReadOnly();
        Validate();
    }

    private LaunchDarklyAccessToken(SecureString owned, bool _)
    {
        secret = owned;
        secret.MakeReadOnly();
        Validate();
    }

    /// <summary>Builds a token from characters (for example a char[] the caller clears afterwards).</summary>
    public static LaunchDarklyAccessToken FromChars(ReadOnlySpan<char> token)
    {
        var secure = new SecureString();
        foreach (var c in token)
        {
            secure.AppendChar(c);
        }

        return new LaunchDarklyAccessToken(secure, true);
    }

    /// <summary>The token from <c>LD_API_KEY</c>, or null when the variable is unset or empty.</summary>
    public static LaunchDarklyAccessToken? FromEnvironment(string variable = EnvironmentVariable)
    {
        var value = Environment.GetEnvironmentVariable(variable);
        return string.IsNullOrEmpty(value) ? null : FromChars(value.AsSpan());
    }

    public LaunchDarklyAccessToken Copy() => new(secret);

    public void Dispose() => secret.Dispose();

    public override string ToString() => "LaunchDarkly access token (hidden)";

    /// <summary>The token as text, for one request header only. Never store or log the result.</summary>
    internal string Reveal()
    {
        var pointer = Marshal.SecureStringToGlobalAllocUnicode(secret);
        try
        {
            return Marshal.PtrToStringUni(pointer, secret.Length);
        }
        finally
        {
            Marshal.ZeroFreeGlobalAllocUnicode(pointer);
        }
    }

    /// <summary>Replaces any occurrence of the token in text that came from elsewhere (a server's message) before it is shown.</summary>
    internal string Redact(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text ?? string.Empty;
        }

        var plain = Reveal();
        return plain.Length > 0 && text.Contains(plain, StringComparison.Ordinal) ? text.Replace(plain, "***", StringComparison.Ordinal) : text;
    }

    // A header value may only hold visible ASCII; anything else would make HttpClient throw a FormatException that
    // quotes the value. Refuse such a token here, without echoing it.
    private void Validate()
    {
        if (secret.Length == 0)
        {
            throw new FlagsException(LaunchDarklyErrorIds.TokenMissing, FlagsErrorKind.InvalidArgument, "The LaunchDarkly access token is empty: pass -ApiKey or set LD_API_KEY.");
        }

        var plain = Reveal();
        foreach (var c in plain)
        {
            if (c < '!' || c > '~')
            {
                throw new FlagsException(LaunchDarklyErrorIds.TokenInvalid, FlagsErrorKind.InvalidArgument, "The LaunchDarkly access token contains spaces, line breaks or non-ASCII characters; copy the token again (its value is not shown).");
            }
        }
    }
}
