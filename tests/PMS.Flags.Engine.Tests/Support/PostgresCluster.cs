using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace PMS.Flags.Engine.Tests.Support;

/// <summary>
/// A throwaway PostgreSQL 15 cluster for the test run (toolchain.md section 5): initdb with a superuser password and
/// scram-sha-256 over TCP, started on a free loopback port with fsync off, and removed on Dispose. Shared by every class
/// in the "Postgres" collection; each class takes its own database with <see cref="CreateDatabase"/>. As root the
/// server binaries run as the 'postgres' user, because initdb refuses root.
/// </summary>
public sealed class PostgresCluster : IDisposable
{
    private const string Bin = "/usr/lib/postgresql/15/bin";
    private static readonly bool IsRoot = Environment.UserName == "root";

    public PostgresCluster()
    {
        if (!File.Exists(Path.Combine(Bin, "initdb")))
        {
            throw new InvalidOperationException("PostgreSQL 15 is not installed: run build.ps1 Bootstrap (build/bootstrap/30-postgres-alembic.sh) as root.");
        }

        Root = Path.Combine(Path.GetTempPath(), "pms-flags-xunit-pg-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
        Password = "pg-" + Guid.NewGuid().ToString("N");
        var passwordFile = Path.Combine(Root, "pwfile");
        File.WriteAllText(passwordFile, Password);
        if (IsRoot)
        {
            Run("chown", "-R", "postgres:postgres", Root);
        }

        Port = FreePort();
        RunServerBinary("initdb", "-D", Path.Combine(Root, "data"), "-U", "postgres", "--pwfile=" + passwordFile, "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8");
        File.Delete(passwordFile);
        RunServerBinary("pg_ctl", "-D", Path.Combine(Root, "data"), "-l", Path.Combine(Root, "server.log"), "-w", "-t", "60", "-o", $"-p {Port} -k {Root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off", "start");
    }

    public string Root { get; }

    public int Port { get; }

    public string Password { get; }

    /// <summary>A fresh database; returns its Npgsql connection string (password included).</summary>
    public string CreateDatabase(string prefix)
    {
        var name = prefix.ToLowerInvariant() + "_" + Guid.NewGuid().ToString("N")[..8];
        Sql($"CREATE DATABASE {name}");
        return ConnectionString(name);
    }

    public string ConnectionString(string database) => $"Host=127.0.0.1;Port={Port};Username=postgres;Password={Password};Database={database}";

    /// <summary>Runs SQL as the superuser over the cluster's unix socket and returns psql's unaligned output.</summary>
    public string Sql(string sql, string database = "postgres")
        => RunServerBinary("psql", "-h", Root, "-p", Port.ToString(), "-U", "postgres", "-d", database, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql);

    /// <summary>Stops the server (fast shutdown) without removing it, to test what agents do while it is down.</summary>
    public void Stop() => RunServerBinary("pg_ctl", "-D", Path.Combine(Root, "data"), "-m", "fast", "-w", "stop");

    /// <summary>Starts the server again after <see cref="Stop"/>, on the same port.</summary>
    public void Start() => RunServerBinary("pg_ctl", "-D", Path.Combine(Root, "data"), "-l", Path.Combine(Root, "server.log"), "-w", "-t", "60", "-o", $"-p {Port} -k {Root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off", "start");

    public void Dispose()
    {
        try
        {
            RunServerBinary("pg_ctl", "-D", Path.Combine(Root, "data"), "-m", "fast", "-w", "stop");
        }
        finally
        {
            try
            {
                Directory.Delete(Root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }

    private static string RunServerBinary(string program, params string[] arguments)
        => IsRoot ? Run("runuser", new[] { "-u", "postgres", "--", Path.Combine(Bin, program) }.Concat(arguments).ToArray()) : Run(Path.Combine(Bin, program), arguments);

    private static string Run(string program, params string[] arguments)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(" ", arguments)} failed ({process.ExitCode}): {stderr.Result}");
        }

        return stdout.Result.Trim();
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresCluster>
{
    public const string Name = "Postgres";
}
