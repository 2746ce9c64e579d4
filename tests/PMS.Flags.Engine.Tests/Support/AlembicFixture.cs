using System.Diagnostics;

namespace PMS.Flags.Engine.Tests.Support;

/// <summary>The fixture alembic project in tests/fixtures, and the real alembic 1.8 (Debian) to compare with.</summary>
public static class AlembicFixture
{
    public const string Alembic = "/usr/bin/alembic";

    public static string ProjectDirectory { get; } = FindProject();

    public static string IniPath => Path.Combine(ProjectDirectory, "alembic.ini");

    public static string VersionsDirectory => Path.Combine(ProjectDirectory, "migrations", "versions");

    /// <summary>Copies the fixture project into a folder of its own, so a test can add or change scripts.</summary>
    public static string CopyTo(string destination)
    {
        foreach (var file in Directory.EnumerateFiles(ProjectDirectory, "*", SearchOption.AllDirectories).Where(f => !f.Contains("__pycache__")))
        {
            var target = Path.Combine(destination, Path.GetRelativePath(ProjectDirectory, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        return Path.Combine(destination, "alembic.ini");
    }

    /// <summary>Runs real alembic and returns stdout (alembic's INFO lines go to stderr).</summary>
    public static string Run(string iniPath, string? databaseUrl, params string[] arguments)
    {
        var info = new ProcessStartInfo(Alembic) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Path.GetDirectoryName(iniPath)! };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(iniPath);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        if (databaseUrl is not null)
        {
            info.Environment["DATABASE_URL"] = databaseUrl;
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"alembic {string.Join(" ", arguments)} failed ({process.ExitCode}): {stderr.Result}");
        }

        return stdout.Result;
    }

    private static string FindProject()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "fixtures", "alembic-project");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("tests/fixtures/alembic-project was not found above the test assembly.");
    }
}
