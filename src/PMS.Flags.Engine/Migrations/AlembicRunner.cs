using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Migrations;

/// <summary>
/// Runs the alembic executable on this machine against a project's alembic.ini, with DATABASE_URL in the child's
/// environment only. Every output line goes to the verbose stream as it arrives, with the password masked; the
/// process is killed if the command is stopped.
/// </summary>
public sealed class AlembicRunner : IAlembicExecutor
{
    public const string DefaultExecutable = "/usr/bin/alembic";

    private static readonly Regex StepLine = new(@"Running (upgrade|downgrade|stamp_revision)\s+(.*?)\s*->\s*([^,]*?)(?:,\s*(.*))?$", RegexOptions.Compiled);

    public AlembicRunner(string executable)
    {
        Executable = executable;
    }

    public string Executable { get; }

    public string Via => "local";

    public bool UsesLocalIni => true;

    public Task EnsureAvailableAsync(IOperationLog log, CancellationToken cancellationToken)
    {
        EnsureAvailable();
        return Task.CompletedTask;
    }

    /// <summary>Fails before anything runs when the executable is missing.</summary>
    public void EnsureAvailable()
    {
        if (!File.Exists(Executable))
        {
            throw new FlagsException(MigrationErrorIds.AlembicNotFound, FlagsErrorKind.ObjectNotFound, $"alembic was not found at '{Executable}'. Install it (Debian: apt-get install alembic python3-psycopg2) or pass -AlembicPath.", Executable);
        }
    }

    public async Task<AlembicRun> RunAsync(string? iniPath, IReadOnlyList<string> arguments, DatabaseTarget database, IOperationLog log, CancellationToken cancellationToken)
    {
        EnsureAvailable();
        ArgumentNullException.ThrowIfNull(iniPath);
        var info = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(iniPath)!,
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(iniPath);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["DATABASE_URL"] = database.ToSqlAlchemyUrl();
        info.Environment["PYTHONUNBUFFERED"] = "1";

        log.Verbose($"Running {Executable} {string.Join(" ", arguments)} against {database.Name} (DATABASE_URL set for alembic only).");
        var watch = Stopwatch.StartNew();
        using var process = new Process { StartInfo = info };
        var lines = new List<string>();
        var stdout = new StringBuilder();
        var gate = new object();
        process.OutputDataReceived += (_, e) => Receive(e.Data, true);
        process.ErrorDataReceived += (_, e) => Receive(e.Data, false);
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new FlagsException(MigrationErrorIds.AlembicNotFound, FlagsErrorKind.ObjectNotFound, $"alembic at '{Executable}' could not be started: {ex.Message}", Executable);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            log.Warning($"Stopped: alembic was killed; run Get-PmsMigration to see where {database.Name} was left.");
            throw;
        }

        process.WaitForExit();
        IReadOnlyList<string> snapshot;
        lock (gate)
        {
            snapshot = lines.ToArray();
        }

        return new AlembicRun
        {
            Arguments = arguments,
            ExitCode = process.ExitCode,
            StandardOutput = stdout.ToString(),
            Lines = snapshot,
            Steps = ParseSteps(snapshot),
            Duration = watch.Elapsed,
        };

        void Receive(string? data, bool isStandardOutput)
        {
            if (data is null)
            {
                return;
            }

            var masked = database.Mask(data);
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

    internal static IReadOnlyList<MigrationStep> ParseSteps(IEnumerable<string> lines)
        => lines.Select(l => StepLine.Match(l)).Where(m => m.Success).Select(m => new MigrationStep
        {
            Kind = m.Groups[1].Value,
            From = m.Groups[2].Value.Trim(),
            To = m.Groups[3].Value.Trim(),
            Message = m.Groups[4].Value.Trim(),
        }).ToArray();
}
