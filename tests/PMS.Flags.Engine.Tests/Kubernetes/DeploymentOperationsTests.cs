using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Kubernetes;
using PMS.Flags.TestServers.Kubernetes;

namespace PMS.Flags.Engine.Tests.Kubernetes;

/// <summary>Restart, wait and undo against the in-process Kubernetes stand-in (the .NET client sends its token over http too).</summary>
public sealed class DeploymentOperationsTests : IAsyncLifetime
{
    private const string Token = "xunit-k8s-token";
    private KubernetesStandIn standIn = null!;
    private string kubeConfig = null!;

    public async Task InitializeAsync()
    {
        standIn = await KubernetesStandIn.StartAsync(new KubernetesStandInOptions { Token = Token, PodReadySeconds = 0.1 });
        kubeConfig = Path.Combine(Path.GetTempPath(), $"pms-xunit-kubeconfig-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(kubeConfig, $"apiVersion: v1\nkind: Config\nclusters:\n- name: s\n  cluster:\n    server: {standIn.BaseUri.GetLeftPart(UriPartial.Authority)}\nusers:\n- name: u\n  user:\n    token: {Token}\ncontexts:\n- name: c\n  context:\n    cluster: s\n    user: u\ncurrent-context: c\n");
    }

    public async Task DisposeAsync()
    {
        File.Delete(kubeConfig);
        await standIn.DisposeAsync();
    }

    [Fact]
    public async Task Restart_then_wait_completes_with_every_pod_replaced()
    {
        using var operations = DeploymentOperations.Connect(new KubernetesTarget { KubeConfigPath = kubeConfig });
        var before = standIn.Cluster.Snapshot("pms", "pms-backend")["pods"]!.Select(p => (string)p["name"]!).ToArray();
        var readings = new List<RolloutProgress>();
        await operations.RestartAsync(CancellationToken.None);
        var (progress, outcome, _) = await operations.WaitAsync(TimeSpan.FromSeconds(30), readings.Add, CancellationToken.None);
        Assert.Equal(DeploymentRolloutOutcome.Complete, outcome);
        Assert.True(progress.Done);
        Assert.Contains(readings, r => !r.Done);
        var after = standIn.Cluster.Snapshot("pms", "pms-backend")["pods"]!.Select(p => (string)p["name"]!).ToArray();
        Assert.Equal(2, after.Length);
        Assert.Empty(after.Intersect(before));
    }

    [Fact]
    public async Task Crash_looping_pods_end_the_wait_with_the_progress_deadline()
    {
        standIn.Cluster.CrashLoop = true;
        standIn.Cluster.SetProgressDeadline("pms", "pms-backend", 1);
        using var operations = DeploymentOperations.Connect(new KubernetesTarget { KubeConfigPath = kubeConfig });
        await operations.RestartAsync(CancellationToken.None);
        var (progress, outcome, _) = await operations.WaitAsync(TimeSpan.FromSeconds(30), null, CancellationToken.None);
        Assert.Equal(DeploymentRolloutOutcome.ProgressDeadlineExceeded, outcome);
        Assert.True(progress.Failed);
    }

    [Fact]
    public async Task Undo_restores_the_previous_revisions_template_from_its_replicaset()
    {
        using var operations = DeploymentOperations.Connect(new KubernetesTarget { KubeConfigPath = kubeConfig });
        var original = (await operations.RevisionsAsync(CancellationToken.None)).Single();
        await operations.RestartAsync(CancellationToken.None);
        await operations.WaitAsync(TimeSpan.FromSeconds(30), null, CancellationToken.None);
        var undo = await operations.UndoAsync(0, dryRun: false, CancellationToken.None);
        Assert.Equal(2, undo.FromRevision);
        Assert.Equal(1, undo.ToRevision);
        Assert.Equal(original.Name, undo.ReplicaSet);
        var (_, outcome, _) = await operations.WaitAsync(TimeSpan.FromSeconds(30), null, CancellationToken.None);
        Assert.Equal(DeploymentRolloutOutcome.Complete, outcome);
        var revisions = await operations.RevisionsAsync(CancellationToken.None);
        Assert.Equal(2, revisions.Count);
        Assert.Equal(original.Name, revisions.OrderBy(r => r.Revision).Last().Name);
    }

    [Fact]
    public async Task A_missing_deployment_and_a_missing_namespace_are_told_apart()
    {
        using var wrongDeployment = DeploymentOperations.Connect(new KubernetesTarget { KubeConfigPath = kubeConfig, Deployment = "nope" });
        Assert.Equal(KubernetesErrorIds.DeploymentNotFound, (await Assert.ThrowsAsync<FlagsException>(() => wrongDeployment.RestartAsync(CancellationToken.None))).ErrorId);
        using var wrongNamespace = DeploymentOperations.Connect(new KubernetesTarget { KubeConfigPath = kubeConfig, Namespace = "nope" });
        Assert.Equal(KubernetesErrorIds.NamespaceNotFound, (await Assert.ThrowsAsync<FlagsException>(() => wrongNamespace.ReadAsync(CancellationToken.None))).ErrorId);
    }

    [Fact]
    public void Log_timestamps_with_nanoseconds_are_read()
    {
        var (at, line) = DeploymentOperations.SplitTimestamp("2026-12-03T18:36:34.949560100Z {\"event\":\"x\"}");
        Assert.Equal(new DateTimeOffset(2026, 12, 3, 18, 36, 34, TimeSpan.Zero).AddTicks(9495601), at);
        Assert.Equal("{\"event\":\"x\"}", line);
        Assert.Equal("x", (string?)DeploymentOperations.ParseJsonLine(line)!["event"]);
    }
}
