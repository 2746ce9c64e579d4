using Npgsql;
using Polly;
using Polly.Retry;

namespace PMS.Flags.Engine.Migrations;

/// <summary>
/// Retries of the database reads (alembic_version, the probe, \dt) with Polly: only what Npgsql calls transient (a
/// dropped connection, a server starting up or shutting down, too many connections), three more attempts with
/// exponential backoff and jitter. Refused credentials, SQL errors and a cancelled command are never retried. Every
/// read here is safe to repeat; alembic itself is never re-run by a retry.
/// </summary>
internal static class PostgresRetryPipeline
{
    public static readonly ResiliencePipeline Instance = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = 3,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(200),
            ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Outcome.Exception, args.Context.CancellationToken)),
        })
        .Build();

    public static bool ShouldRetry(Exception? exception, CancellationToken cancellationToken)
        => !cancellationToken.IsCancellationRequested && exception switch
        {
            PostgresException { SqlState: "28P01" or "28000" } => false,
            NpgsqlException npgsql => npgsql.IsTransient,
            _ => false,
        };
}
