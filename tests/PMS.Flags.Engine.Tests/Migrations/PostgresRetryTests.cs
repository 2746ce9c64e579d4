using System.Net;
using System.Net.Sockets;
using Npgsql;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Migrations;
using PMS.Flags.Engine.Tests.Support;

namespace PMS.Flags.Engine.Tests.Migrations;

/// <summary>The database reads retry transient failures only: a real PostgreSQL behind a proxy that drops connections.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresRetryTests
{
    private readonly PostgresCluster cluster;

    public PostgresRetryTests(PostgresCluster cluster)
    {
        this.cluster = cluster;
    }

    [Fact]
    public void Only_transient_Npgsql_failures_are_retried()
    {
        Assert.True(PostgresRetryPipeline.ShouldRetry(new NpgsqlException("connection reset", new IOException("reset")), CancellationToken.None));
        Assert.True(PostgresRetryPipeline.ShouldRetry(new PostgresException("too many connections", "FATAL", "FATAL", "53300"), CancellationToken.None));
        Assert.False(PostgresRetryPipeline.ShouldRetry(new PostgresException("password authentication failed", "FATAL", "FATAL", "28P01"), CancellationToken.None));
        Assert.False(PostgresRetryPipeline.ShouldRetry(new PostgresException("relation does not exist", "ERROR", "ERROR", "42P01"), CancellationToken.None));
        Assert.False(PostgresRetryPipeline.ShouldRetry(new InvalidOperationException("bug"), CancellationToken.None));
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.False(PostgresRetryPipeline.ShouldRetry(new NpgsqlException("connection reset", new IOException("reset")), cancelled.Token));
    }

    [Fact]
    public async Task A_connection_dropped_twice_is_retried_and_the_read_succeeds()
    {
        var connectionString = cluster.CreateDatabase("xunit_retry");
        using var proxy = new DroppingProxy(cluster.Port, dropFirst: 2);
        var target = DatabaseTarget.Parse(new NpgsqlConnectionStringBuilder(connectionString) { Port = proxy.Port, Pooling = false, SslMode = SslMode.Disable, GssEncryptionMode = GssEncryptionMode.Disable }.ConnectionString);

        var revisions = await new PostgresDatabase(target).ReadCurrentRevisionsAsync(CancellationToken.None);

        Assert.Empty(revisions);
        Assert.Equal(3, proxy.Accepted);
    }

    [Fact]
    public async Task A_connection_that_keeps_dropping_ends_as_DatabaseUnreachable_after_four_attempts()
    {
        var connectionString = cluster.CreateDatabase("xunit_retry");
        using var proxy = new DroppingProxy(cluster.Port, dropFirst: int.MaxValue);
        var target = DatabaseTarget.Parse(new NpgsqlConnectionStringBuilder(connectionString) { Port = proxy.Port, Pooling = false, SslMode = SslMode.Disable, GssEncryptionMode = GssEncryptionMode.Disable }.ConnectionString);

        var failure = await Assert.ThrowsAsync<FlagsException>(() => new PostgresDatabase(target).ReadCurrentRevisionsAsync(CancellationToken.None));

        Assert.Equal(MigrationErrorIds.DatabaseUnreachable, failure.ErrorId);
        // One try and three retries. SSL and GSS negotiation are off: with them on, Npgsql itself may reconnect once
        // more without encryption after a drop, which is its behaviour, not the pipeline's.
        Assert.Equal(4, proxy.Accepted);
    }

    [Fact]
    public async Task Refused_credentials_are_not_retried()
    {
        var connectionString = cluster.CreateDatabase("xunit_retry");
        using var proxy = new DroppingProxy(cluster.Port, dropFirst: 0);
        var target = DatabaseTarget.Parse(new NpgsqlConnectionStringBuilder(connectionString) { Port = proxy.Port, Password = "wrong-password", Pooling = false, SslMode = SslMode.Disable, GssEncryptionMode = GssEncryptionMode.Disable }.ConnectionString);

        var failure = await Assert.ThrowsAsync<FlagsException>(() => new PostgresDatabase(target).ReadCurrentRevisionsAsync(CancellationToken.None));

        Assert.Equal(MigrationErrorIds.AuthenticationFailed, failure.ErrorId);
        // One connection: Npgsql does not retry refused credentials, and neither does the pipeline (SSL/GSS negotiation off, so no fallback attempt).
        Assert.Equal(1, proxy.Accepted);
    }

    /// <summary>A TCP proxy to PostgreSQL that closes the first N connections at once (a server restarting) and relays the rest.</summary>
    private sealed class DroppingProxy : IDisposable
    {
        private readonly TcpListener listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource stop = new();
        private readonly int upstreamPort;
        private readonly int dropFirst;
        private int accepted;

        public DroppingProxy(int upstreamPort, int dropFirst)
        {
            this.upstreamPort = upstreamPort;
            this.dropFirst = dropFirst;
            listener.Start();
            _ = Task.Run(AcceptAsync);
        }

        public int Port => ((IPEndPoint)listener.LocalEndpoint).Port;

        public int Accepted => Volatile.Read(ref accepted);

        private async Task AcceptAsync()
        {
            while (!stop.IsCancellationRequested)
            {
                TcpClient client;
                try
                {
                    client = await listener.AcceptTcpClientAsync(stop.Token);
                }
                catch (Exception)
                {
                    return;
                }

                if (Interlocked.Increment(ref accepted) <= dropFirst)
                {
                    client.Client.LingerState = new LingerOption(true, 0);
                    client.Dispose();
                    continue;
                }

                _ = Task.Run(() => RelayAsync(client));
            }
        }

        private async Task RelayAsync(TcpClient client)
        {
            using (client)
            using (var upstream = new TcpClient())
            {
                await upstream.ConnectAsync(IPAddress.Loopback, upstreamPort);
                var a = client.GetStream().CopyToAsync(upstream.GetStream(), stop.Token);
                var b = upstream.GetStream().CopyToAsync(client.GetStream(), stop.Token);
                try
                {
                    await Task.WhenAny(a, b);
                }
                catch (Exception)
                {
                    // Either side hung up.
                }
            }
        }

        public void Dispose()
        {
            stop.Cancel();
            listener.Stop();
        }
    }
}
