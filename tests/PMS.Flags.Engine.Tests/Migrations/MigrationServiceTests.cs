using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Migrations;
using PMS.Flags.Engine.Tests.Support;

namespace PMS.Flags.Engine.Tests.Migrations;

/// <summary>The engine against a real PostgreSQL 15 and real alembic 1.8: status, runs, ledger events, refusals.</summary>
[Collection(PostgresCollection.Name)]
public sealed class MigrationServiceTests : IDisposable
{
    private readonly PostgresCluster cluster;
    private readonly TempDirectory temp = new();
    private readonly string connectionString;
    private readonly string databaseName;

    public MigrationServiceTests(PostgresCluster cluster)
    {
        this.cluster = cluster;
        connectionString = cluster.CreateDatabase("xunit_migrations");
        databaseName = connectionString.Split("Database=")[1];
    }

    private string DatabaseUrl => $"postgresql+psycopg2://postgres:{cluster.Password}@127.0.0.1:{cluster.Port}/{databaseName}";

    private MigrationService Service(string? scripts = null) => new(DatabaseTarget.Parse(connectionString), scripts ?? AlembicFixture.IniPath);

    private (AuditTrail Trail, JsonlLedger Ledger) Trail()
    {
        var ledger = new JsonlLedger(temp.Combine("ledger.jsonl"));
        return (new AuditTrail(ledger, new AuditSpool(temp.Combine("spool")), NullOperationLog.Instance), ledger);
    }

    private static MigrationRequest Request(bool allowDataLoss = false) => new() { Reason = "xunit", User = "tester", AllowDataLoss = allowDataLoss };

    private string Tables() => cluster.Sql("SELECT string_agg(table_name, ',' ORDER BY table_name) FROM information_schema.tables WHERE table_schema = 'public'", databaseName);

    [Fact]
    public async Task Status_at_base_mid_and_head_agrees_with_real_alembic_current()
    {
        var service = Service();
        var atBase = await service.GetStatusAsync(CancellationToken.None);
        Assert.Empty(atBase.Current);
        Assert.False(atBase.IsAtHead);
        Assert.Equal(5, atBase.Pending.Count);
        Assert.Equal("", AlembicFixture.Run(AlembicFixture.IniPath, DatabaseUrl, "current").Trim());

        AlembicFixture.Run(AlembicFixture.IniPath, DatabaseUrl, "upgrade", "0003");
        var mid = await service.GetStatusAsync(CancellationToken.None);
        Assert.Equal(new[] { "0003" }, mid.Current);
        Assert.Equal(new[] { "0002", "0004", "0005" }, mid.Pending.Select(r => r.Revision).Order(StringComparer.Ordinal));
        Assert.Equal("0003", AlembicFixture.Run(AlembicFixture.IniPath, DatabaseUrl, "current").Trim());

        AlembicFixture.Run(AlembicFixture.IniPath, DatabaseUrl, "upgrade", "head");
        var head = await service.GetStatusAsync(CancellationToken.None);
        Assert.Equal(new[] { "0005" }, head.Current);
        Assert.True(head.IsAtHead);
        Assert.Empty(head.Pending);
        Assert.Equal("0005 (head)", AlembicFixture.Run(AlembicFixture.IniPath, DatabaseUrl, "current").Trim());

        // Downgraded to base, alembic keeps an empty alembic_version table: still base.
        AlembicFixture.Run(AlembicFixture.IniPath, DatabaseUrl, "downgrade", "base");
        Assert.Equal("0", cluster.Sql("SELECT count(*) FROM alembic_version", databaseName));
        Assert.Empty((await service.GetStatusAsync(CancellationToken.None)).Current);
    }

    [Fact]
    public async Task Upgrade_and_reversible_downgrade_run_alembic_and_record_from_and_to()
    {
        var service = Service();
        var (trail, ledger) = Trail();
        var up = await service.RunAsync(await service.PlanAsync(MigrationAction.Upgrade, "head", CancellationToken.None), Request(), trail, NullOperationLog.Instance, CancellationToken.None);
        Assert.Equal(new[] { "0005" }, up.To);
        Assert.Equal(5, up.Steps.Count);
        Assert.All(up.Steps, s => Assert.Equal("upgrade", s.Kind));

        var down = await service.RunAsync(await service.PlanAsync(MigrationAction.Downgrade, "-1", CancellationToken.None), Request(), trail, NullOperationLog.Instance, CancellationToken.None);
        Assert.Equal(new[] { "0005" }, down.From);
        Assert.Equal(new[] { "0004" }, down.To);
        Assert.Equal("0004", cluster.Sql("SELECT version_num FROM alembic_version", databaseName));

        var events = ledger.Read(AuditQuery.All, CancellationToken.None).ToArray();
        Assert.Equal(new[] { MigrationEventTypes.Applied, MigrationEventTypes.Reverted }, events.Select(e => e.EventType));
        Assert.Contains("\"from_revisions\":[\"0005\"]", events[1].Details);
        Assert.Contains("\"to_revisions\":[\"0004\"]", events[1].Details);
        Assert.All(events, e => Assert.Equal("succeeded", e.Outcome));
        Assert.All(events, e => Assert.DoesNotContain(cluster.Password, e.Details));
    }

    [Fact]
    public async Task A_destructive_downgrade_without_consent_changes_nothing_and_records_nothing()
    {
        AlembicFixture.Run(AlembicFixture.IniPath, DatabaseUrl, "upgrade", "head");
        var before = Tables();
        var service = Service();
        var (trail, ledger) = Trail();
        var plan = await service.PlanAsync(MigrationAction.Downgrade, "base", CancellationToken.None);
        var refusal = await Assert.ThrowsAsync<FlagsException>(() => service.RunAsync(plan, Request(), trail, NullOperationLog.Instance, CancellationToken.None));
        Assert.Equal(MigrationErrorIds.DataLossRefused, refusal.ErrorId);
        Assert.Equal(before, Tables());
        Assert.Equal("0005", cluster.Sql("SELECT version_num FROM alembic_version", databaseName));
        Assert.False(File.Exists(ledger.Path));
    }

    [Fact]
    public async Task A_failing_upgrade_is_rolled_back_by_postgres_recorded_as_failed_and_reported()
    {
        // 0005 creates ix_settings_key_lower; an index of that name already there makes 0005 fail after 0001-0004 ran.
        cluster.Sql("CREATE TABLE blocker (key text); CREATE INDEX ix_settings_key_lower ON blocker (key)", databaseName);
        var service = Service();
        var (trail, ledger) = Trail();
        var failure = await Assert.ThrowsAsync<FlagsException>(async () =>
            await service.RunAsync(await service.PlanAsync(MigrationAction.Upgrade, "head", CancellationToken.None), Request(), trail, NullOperationLog.Instance, CancellationToken.None));
        Assert.Equal(MigrationErrorIds.AlembicFailed, failure.ErrorId);
        Assert.False(failure.ChangeWasMade);
        Assert.Contains("unchanged", failure.Message);
        Assert.Equal("blocker", Tables());
        var recorded = Assert.Single(ledger.Read(AuditQuery.All, CancellationToken.None));
        Assert.Equal("failed", recorded.Outcome);
        Assert.DoesNotContain(cluster.Password, failure.Message);
    }

    [Fact]
    public async Task A_recorded_revision_no_script_defines_is_reported_and_refused_for_runs()
    {
        AlembicFixture.Run(AlembicFixture.IniPath, DatabaseUrl, "upgrade", "0001");
        cluster.Sql("UPDATE alembic_version SET version_num = 'deadbeef'", databaseName);
        var service = Service();
        var status = await service.GetStatusAsync(CancellationToken.None);
        Assert.Equal(new[] { "deadbeef" }, status.Current);
        Assert.Equal(new[] { "deadbeef" }, status.UnknownCurrent);
        Assert.False(status.IsAtHead);
        var refusal = await Assert.ThrowsAsync<FlagsException>(() => service.PlanAsync(MigrationAction.Upgrade, "head", CancellationToken.None));
        Assert.Equal(MigrationErrorIds.CurrentRevisionUnknown, refusal.ErrorId);
    }

    [Fact]
    public async Task Probe_and_table_list_read_the_server()
    {
        AlembicFixture.Run(AlembicFixture.IniPath, DatabaseUrl, "upgrade", "0001");
        var database = new PostgresDatabase(DatabaseTarget.Parse(connectionString));
        var probe = await database.ProbeAsync(CancellationToken.None);
        Assert.StartsWith("PostgreSQL 15", probe.ServerVersion);
        Assert.Equal(databaseName, probe.Database);
        Assert.Equal("postgres", probe.User);
        Assert.False(probe.Tls);
        var tables = await database.ListTablesAsync(CancellationToken.None);
        Assert.Equal(new[] { "alembic_version", "settings" }, tables.Select(t => t.Name));
        Assert.All(tables, t => Assert.Equal(("public", "table", "postgres"), (t.Schema, t.Type, t.Owner)));
    }

    [Fact]
    public async Task Wrong_password_and_closed_port_have_their_own_ids_and_never_show_the_password()
    {
        var wrong = DatabaseTarget.Parse(connectionString.Replace(cluster.Password, "not-the-password-42"));
        var denied = await Assert.ThrowsAsync<FlagsException>(() => new PostgresDatabase(wrong).ReadCurrentRevisionsAsync(CancellationToken.None));
        Assert.Equal(MigrationErrorIds.AuthenticationFailed, denied.ErrorId);
        Assert.DoesNotContain("not-the-password-42", denied.Message);

        var closed = DatabaseTarget.Parse($"Host=127.0.0.1;Port=1;Username=postgres;Password={cluster.Password};Database=x;Timeout=3");
        var unreachable = await Assert.ThrowsAsync<FlagsException>(() => new PostgresDatabase(closed).ReadCurrentRevisionsAsync(CancellationToken.None));
        Assert.Equal(MigrationErrorIds.DatabaseUnreachable, unreachable.ErrorId);
        Assert.DoesNotContain(cluster.Password, unreachable.Message);
    }

    public void Dispose() => temp.Dispose();
}
