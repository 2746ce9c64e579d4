using System.Text.RegularExpressions;
using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Migrations;

/// <summary>
/// Where an alembic project's pieces are: alembic.ini (needed only to run alembic), the script directory holding env.py,
/// and the versions folder(s). Found from either alembic.ini, the script directory, or the versions folder itself.
/// </summary>
public sealed class AlembicProject
{
    private AlembicProject(string? iniPath, IReadOnlyList<string> versionDirectories)
    {
        IniPath = iniPath;
        VersionDirectories = versionDirectories;
    }

    /// <summary>Null when the scripts were given without an alembic.ini above them: status works, running alembic does not.</summary>
    public string? IniPath { get; }

    public IReadOnlyList<string> VersionDirectories { get; }

    public string RequireIni()
        => IniPath ?? throw new FlagsException(MigrationErrorIds.AlembicIniNotFound, FlagsErrorKind.ObjectNotFound, $"Running alembic needs its alembic.ini, and none was found at or above '{VersionDirectories[0]}'. Pass -ScriptLocation <path to alembic.ini>.", VersionDirectories[0]);

    public static AlembicProject Locate(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (File.Exists(full))
        {
            return FromIni(full);
        }

        if (!Directory.Exists(full))
        {
            throw new FlagsException(MigrationErrorIds.ScriptLocationNotFound, FlagsErrorKind.ObjectNotFound, $"The migration script location '{full}' does not exist: give alembic.ini, the folder holding env.py, or its versions folder.", full);
        }

        if (File.Exists(System.IO.Path.Combine(full, "alembic.ini")))
        {
            return FromIni(System.IO.Path.Combine(full, "alembic.ini"));
        }

        // A script directory (env.py beside versions/) or the versions folder itself; look upwards for the ini that names it.
        var versions = File.Exists(System.IO.Path.Combine(full, "env.py")) && Directory.Exists(System.IO.Path.Combine(full, "versions"))
            ? System.IO.Path.Combine(full, "versions")
            : full;
        for (var dir = Directory.GetParent(versions); dir is not null && dir.FullName.Length > 1; dir = dir.Parent)
        {
            var ini = System.IO.Path.Combine(dir.FullName, "alembic.ini");
            if (File.Exists(ini))
            {
                var candidate = FromIni(ini);
                if (candidate.VersionDirectories.Any(v => SamePath(v, versions)))
                {
                    return candidate;
                }
            }
        }

        return new AlembicProject(null, new[] { versions });
    }

    private static AlembicProject FromIni(string iniPath)
    {
        var here = System.IO.Path.GetDirectoryName(iniPath)!;
        var options = ReadAlembicSection(iniPath);
        if (!options.TryGetValue("script_location", out var scriptLocation) || scriptLocation.Length == 0)
        {
            throw new FlagsException(MigrationErrorIds.ScriptLocationNotFound, FlagsErrorKind.InvalidData, $"'{iniPath}' has no script_location in its [alembic] section.", iniPath);
        }

        var scriptDirectory = Resolve(here, scriptLocation);
        IReadOnlyList<string> versions = options.TryGetValue("version_locations", out var locations) && locations.Length > 0
            ? Regex.Split(locations, @"[\s,]+").Where(s => s.Length > 0).Select(s => Resolve(here, s)).ToArray()
            : new[] { System.IO.Path.Combine(scriptDirectory, "versions") };
        return new AlembicProject(iniPath, versions);
    }

    private static string Resolve(string here, string value)
        => System.IO.Path.GetFullPath(System.IO.Path.Combine(here, value.Replace("%(here)s", here, StringComparison.Ordinal)));

    private static Dictionary<string, string> ReadAlembicSection(string iniPath)
    {
        var options = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var inSection = false;
        foreach (var raw in File.ReadLines(iniPath))
        {
            var line = raw.Trim();
            if (line.StartsWith('[') && line.EndsWith(']'))
            {
                inSection = line == "[alembic]";
                continue;
            }

            if (!inSection || line.Length == 0 || line.StartsWith('#') || line.StartsWith(';'))
            {
                continue;
            }

            var equals = line.IndexOf('=');
            if (equals > 0)
            {
                options[line[..equals].Trim()] = line[(equals + 1)..].Trim();
            }
        }

        return options;
    }

    private static bool SamePath(string a, string b)
        => string.Equals(System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(a)), System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(b)), StringComparison.Ordinal);
}
