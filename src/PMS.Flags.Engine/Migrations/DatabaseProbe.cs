namespace PMS.Flags.Engine.Migrations;

/// <summary>The playbook's connectivity check (psql $DATABASE_URL -c "SELECT version();") as an object.</summary>
public sealed class DatabaseProbe
{
    public required string Database { get; init; }

    public required string User { get; init; }

    public required string Host { get; init; }

    public int Port { get; init; }

    /// <summary>SELECT version().</summary>
    public required string ServerVersion { get; init; }

    /// <summary>server_version, e.g. 15.18 (Debian 15.18-0+deb12u1).</summary>
    public required string ServerVersionNumber { get; init; }

    /// <summary>Round trip of a trivial query on the open connection (connecting is ConnectTime).</summary>
    public TimeSpan Latency { get; init; }

    public double LatencyMilliseconds => Latency.TotalMilliseconds;

    public TimeSpan ConnectTime { get; init; }

    public bool Tls { get; init; }

    /// <summary>The TLS version in use (pg_stat_ssl), or null without TLS.</summary>
    public string? TlsVersion { get; init; }

    public override string ToString() => $"{User}@{Host}:{Port}/{Database} PostgreSQL {ServerVersionNumber}, {Latency.TotalMilliseconds:0.0} ms, TLS {Tls}";
}
