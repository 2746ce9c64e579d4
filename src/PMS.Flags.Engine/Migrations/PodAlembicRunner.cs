using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Kubernetes;

namespace PMS.Flags.Engine.Migrations;

/// <summary>
/// Runs alembic inside a Ready pod of a deployment through the Kubernetes exec API, as the playbook's
/// <c>kubectl exec deployment/pms-backend -- alembic …</c> does: the pod's own DATABASE_URL and alembic.ini (its working
/// directory, or <see cref="PodConfigPath"/>). The pod is chosen once, by <see cref="EnsureAvailableAsync"/>, so a
/// plan, its preview and its run all happen in the same pod. Output lines are masked twice: the password this machine
/// knows, and any password in a URL (the pod's DATABASE_URL may carry a different one).
/// </summary>
public sealed class PodAlembicRunner : IAlembicExecutor
{
    public const string DefaultExecutable = "alembic";

    private static readonly Regex UrlPassword = new(@"(://[^:/@\s]*:)[^@\s]+@", RegexOptions.Compiled);

    private string? pod;

    public PodAlembicRunner(KubernetesTarget target, string? container, string? podConfigPath, string executable = DefaultExecutable)
    {
        Target = target;
        Container = container;
        PodConfigPath = podConfigPath;
        Executable = executable;
    }

    public KubernetesTarget Target { get; }

    public string? Container { get; }

    /// <summary>alembic.ini's path inside the container; null: the container's working directory has it.</summary>
    public string? PodConfigPath { get; }

    public string Executable { get; }

    /// <summary>The pod alembic runs in, once chosen.</summary>
    public string? Pod => pod;

    public string Via => pod is null ? $"pod of {Target.Namespace}/{Target.Deployment}" : $"pod {Target.Namespace}/{pod}";

    public bool UsesLocalIni => false;

    /// <summary>Chooses a Ready pod and checks that alembic starts there (alembic --version); nothing changes.</summary>
    public async Task EnsureAvailableAsync(IOperationLog log, CancellationToken cancellationToken)
    {
        if (pod is not null)
        {
            return;
        }

        using var gateway = KubernetesGateway.Connect(Target);
        var chosen = await gateway.FindReadyPodAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new FlagsException(MigrationErrorIds.NoReadyPod, FlagsErrorKind.ResourceUnavailable, $"Deployment {Target.Namespace}/{Target.Deployment} has no Ready pod to run alembic in; nothing was run. Check Get-PmsDeploymentHealth.", Target.Deployment);
        var name = chosen.Metadata.Name;
        log.Verbose($"alembic runs in pod {Target.Namespace}/{name}{(Container is null ? "" : $", container {Container}")}.");
        var output = new List<string>();
        var exit = await gateway.ExecAsync(name, Container, new[] { Executable, "--version" }, (l, _) => output.Add(l), cancellationToken).ConfigureAwait(false);
        if (exit is 126 or 127)
        {
            throw new FlagsException(MigrationErrorIds.AlembicNotFound, FlagsErrorKind.ObjectNotFound, $"alembic ('{Executable}') cannot be started in pod {Target.Namespace}/{name} (exit {exit}): {string.Join(" ", output).Trim()}", Executable);
        }

        if (exit != 0)
        {
            throw new FlagsException(MigrationErrorIds.AlembicFailed, FlagsErrorKind.InvalidOperation, $"'{Executable} --version' failed in pod {Target.Namespace}/{name} (exit {(exit is null ? "unknown: the connection was lost" : exit)}): {string.Join(" ", output).Trim()}", Executable);
        }

        log.Verbose($"Pod {name}: {string.Join(" ", output).Trim()}.");
        pod = name;
    }

    public async Task<AlembicRun> RunAsync(string? iniPath, IReadOnlyList<string> arguments, DatabaseTarget database, IOperationLog log, CancellationToken cancellationToken)
    {
        await EnsureAvailableAsync(log, cancellationToken).ConfigureAwait(false);
        var command = new List<string> { Executable };
        if (PodConfigPath is not null)
        {
            command.Add("-c");
            command.Add(PodConfigPath);
        }

        command.AddRange(arguments);
        log.Verbose($"Running {string.Join(" ", command)} in pod {Target.Namespace}/{pod} (the pod's DATABASE_URL).");
        var lines = new List<string>();
        var stdout = new StringBuilder();
        var gate = new object();
        var watch = Stopwatch.StartNew();
        using var gateway = KubernetesGateway.Connect(Target);
        int? exit;
        try
        {
            exit = await gateway.ExecAsync(pod!, Container, command, Receive, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            log.Warning($"Stopped: the exec connection was closed; alembic may still be running in pod {pod}. Run Get-PmsMigration to see where {database.Name} was left.");
            throw;
        }

        IReadOnlyList<string> snapshot;
        lock (gate)
        {
            snapshot = lines.ToArray();
        }

        if (exit is null)
        {
            throw new FlagsException(MigrationErrorIds.ExecConnectionLost, FlagsErrorKind.ConnectionError, $"The exec connection to pod {Target.Namespace}/{pod} ended before alembic reported its exit code (after {snapshot.Count} line(s) of output); alembic may have finished, failed or still be running there.", pod);
        }

        return new AlembicRun
        {
            Arguments = arguments,
            ExitCode = exit.Value,
            StandardOutput = stdout.ToString(),
            Lines = snapshot,
            Steps = AlembicRunner.ParseSteps(snapshot),
            Duration = watch.Elapsed,
        };

        void Receive(string data, bool isStandardOutput)
        {
            var masked = UrlPassword.Replace(database.Mask(data), "$1***@");
            lock (gate)
            {
                lines.Add(masked);
                if (isStandardOutput)
                {
                    stdout.AppendLine(masked);
                }
            }

            log.Verbose("alembic: " + masked);
        }
    }
}
