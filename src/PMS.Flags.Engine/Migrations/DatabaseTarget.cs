using System.Text;
using Npgsql;
using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Migrations;

/// <summary>
/// A PostgreSQL database to talk to, from an Npgsql connection string or a postgresql:// URL (the playbook's
/// DATABASE_URL). The password stays inside: Name and ToString never show it, and <see cref="Mask"/> scrubs it (plain
/// and URL-encoded) from any text that reaches the user, such as alembic's output.
/// </summary>
public sealed class DatabaseTarget
{
    private readonly NpgsqlConnectionStringBuilder builder;

    private DatabaseTarget(NpgsqlConnectionStringBuilder builder)
    {
        this.builder = builder;
    }

    /// <summary>host:port/database as user -- never the password.</summary>
    public string Name => $"{builder.Host}:{builder.Port}/{builder.Database} as {builder.Username}";

    public string Host => builder.Host ?? "";

    public int Port => builder.Port;

    public string Database => builder.Database ?? "";

    public string User => builder.Username ?? "";

    /// <summary>How TLS is asked for (Npgsql's names: Disable, Allow, Prefer, Require, VerifyCA, VerifyFull).</summary>
    public string SslMode => builder.SslMode.ToString();

    public static DatabaseTarget Parse(string? connectionString, TimeSpan? timeout = null)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new FlagsException(MigrationErrorIds.ConnectionStringMissing, FlagsErrorKind.InvalidArgument, "No connection string: pass -ConnectionString, or set DATABASE_URL.");
        }

        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = IsUrl(connectionString) ? FromUrl(connectionString) : new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or UriFormatException or InvalidOperationException)
        {
            // The parser's own message may quote the offending part, which could be the password: say only what is wrong.
            throw new FlagsException(MigrationErrorIds.ConnectionStringInvalid, FlagsErrorKind.InvalidArgument, "The connection string cannot be parsed: give 'Host=…;Port=…;Username=…;Password=…;Database=…' or 'postgresql://user:password@host:port/database'.");
        }

        if (string.IsNullOrEmpty(builder.Host) || string.IsNullOrEmpty(builder.Database))
        {
            throw new FlagsException(MigrationErrorIds.ConnectionStringInvalid, FlagsErrorKind.InvalidArgument, "The connection string must name a Host and a Database.");
        }

        builder.Username ??= Environment.UserName;
        if (timeout is { } t)
        {
            builder.Timeout = Math.Max(1, (int)Math.Ceiling(t.TotalSeconds));
        }

        builder.ApplicationName ??= "PMS.Flags";
        return new DatabaseTarget(builder);
    }

    internal NpgsqlConnection CreateConnection() => new(builder.ConnectionString);

    /// <summary>The same database as another user (a -Credential); the password stays inside, as with the connection string's own.</summary>
    public DatabaseTarget WithCredential(string user, string? password)
    {
        var copy = new NpgsqlConnectionStringBuilder(builder.ConnectionString) { Username = user, Password = string.IsNullOrEmpty(password) ? null : password };
        return new DatabaseTarget(copy);
    }

    /// <summary>The SQLAlchemy URL alembic's env.py reads from DATABASE_URL (psycopg2 driver), password URL-encoded.</summary>
    internal string ToSqlAlchemyUrl()
    {
        var url = new StringBuilder("postgresql+psycopg2://");
        url.Append(Uri.EscapeDataString(User));
        if (!string.IsNullOrEmpty(builder.Password))
        {
            url.Append(':').Append(Uri.EscapeDataString(builder.Password));
        }

        var query = new List<string>();
        if (Host.StartsWith('/'))
        {
            url.Append("@/").Append(Uri.EscapeDataString(Database));
            query.Add("host=" + Uri.EscapeDataString(Host));
            query.Add("port=" + Port);
        }
        else
        {
            url.Append('@').Append(Host.Contains(':') ? $"[{Host}]" : Host).Append(':').Append(Port).Append('/').Append(Uri.EscapeDataString(Database));
        }

        if (builder.SslMode is not (Npgsql.SslMode.Disable or Npgsql.SslMode.Prefer))
        {
            query.Add("sslmode=" + builder.SslMode.ToString().ToLowerInvariant().Replace("verify", "verify-", StringComparison.Ordinal));
        }

        return query.Count == 0 ? url.ToString() : url + "?" + string.Join("&", query);
    }

    /// <summary>The text with the password replaced by ***, in every spelling a tool might print it.</summary>
    public string Mask(string text)
    {
        var password = builder.Password;
        if (string.IsNullOrEmpty(password))
        {
            return text;
        }

        foreach (var spelling in new[] { password, Uri.EscapeDataString(password), Uri.EscapeDataString(password).Replace("%", "%%", StringComparison.Ordinal) }.Distinct().OrderByDescending(s => s.Length))
        {
            text = text.Replace(spelling, "***", StringComparison.Ordinal);
        }

        return text;
    }

    public override string ToString() => Name;

    private static bool IsUrl(string text)
        => text.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase)
           || text.StartsWith("postgresql+", StringComparison.OrdinalIgnoreCase);

    private static NpgsqlConnectionStringBuilder FromUrl(string text)
    {
        var schemeEnd = text.IndexOf("://", StringComparison.Ordinal);
        var uri = new Uri("postgresql" + text[schemeEnd..]);
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host.Length > 0 ? uri.Host.Trim('[', ']') : null,
            Port = uri.IsDefaultPort || uri.Port < 0 ? 5432 : uri.Port,
            Database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/')),
        };
        if (uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':');
            builder.Username = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            if (colon >= 0)
            {
                builder.Password = Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
            }
        }

        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = pair.Split('=', 2);
            var value = parts.Length == 2 ? Uri.UnescapeDataString(parts[1]) : "";
            switch (parts[0].ToLowerInvariant())
            {
                case "host":
                    builder.Host = value;
                    break;
                case "port":
                    builder.Port = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
                    break;
                case "sslmode":
                    builder.SslMode = Enum.Parse<Npgsql.SslMode>(value.Replace("-", "", StringComparison.Ordinal), ignoreCase: true);
                    break;
            }
        }

        return builder;
    }
}
