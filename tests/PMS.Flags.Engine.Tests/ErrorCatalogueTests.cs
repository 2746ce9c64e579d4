using System.Reflection;
using System.Text.RegularExpressions;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Flags.LaunchDarkly;

namespace PMS.Flags.Engine.Tests;

/// <summary>One catalogue of ErrorIds: the code raises only what it lists, and about_PMS.Flags_Errors documents exactly it.</summary>
public sealed class ErrorCatalogueTests
{
    private static readonly string RepositoryRoot = FindRoot();

    [Fact]
    public void Every_ErrorId_is_listed_once()
    {
        var duplicates = ErrorCatalogue.All.GroupBy(e => e.ErrorId).Where(g => g.Count() > 1).Select(g => g.Key);

        Assert.Empty(duplicates);
        Assert.All(ErrorCatalogue.All, e => Assert.False(string.IsNullOrWhiteSpace(e.Meaning), e.ErrorId));
    }

    [Fact]
    public void The_about_topic_lists_exactly_the_catalogue_with_the_same_categories()
    {
        var text = File.ReadAllText(Path.Combine(RepositoryRoot, "module", "help", "about_PMS.Flags_Errors.help.txt"));
        var documented = Regex.Matches(text, @"^    ([A-Z][A-Za-z0-9]+) \(([A-Za-z]+)\)\r?$", RegexOptions.Multiline)
            .Select(m => $"{m.Groups[1].Value} ({m.Groups[2].Value})")
            .ToArray();

        Assert.Equal(ErrorCatalogue.All.Select(e => $"{e.ErrorId} ({e.Kind})").OrderBy(x => x, StringComparer.Ordinal), documented.OrderBy(x => x, StringComparer.Ordinal));
    }

    [Fact]
    public void The_source_raises_only_catalogued_ErrorIds_and_the_catalogue_lists_nothing_stale()
    {
        var raised = RaisedErrorIds();

        Assert.Empty(raised.Except(ErrorCatalogue.All.Select(e => e.ErrorId)).OrderBy(x => x));
        Assert.Empty(ErrorCatalogue.All.Select(e => e.ErrorId).Except(raised).OrderBy(x => x));
    }

    private static HashSet<string> RaisedErrorIds()
    {
        var patterns = new[]
        {
            new Regex(@"(?:FlagsException|LedgerException|new)\(\s*(?:LedgerFailure\.\w+,\s*)?""([A-Z]\w+)"",\s*FlagsErrorKind\."),
            new Regex(@"(?:FlagsException|LedgerException)\(\s*(?:LedgerFailure\.\w+,\s*)?""([A-Z]\w+)"""),
            new Regex(@"\bInvalid\(\s*""([A-Z]\w+)"""),
            new Regex(@"ErrorRecord\([^;]*?,\s*""([A-Z]\w+)"","),
        };
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(RepositoryRoot, "src"), "*.cs", SearchOption.AllDirectories))
        {
            var source = File.ReadAllText(file);
            foreach (var pattern in patterns)
            {
                ids.UnionWith(pattern.Matches(source).Select(m => m.Groups[1].Value));
            }
        }

        ids.UnionWith(typeof(LaunchDarklyErrorIds).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (string)f.GetValue(null)!));
        ids.UnionWith(typeof(PMS.Flags.Engine.Migrations.MigrationErrorIds).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (string)f.GetValue(null)!));
        ids.UnionWith(typeof(PMS.Flags.Engine.Kubernetes.KubernetesErrorIds).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (string)f.GetValue(null)!));
        return ids;
    }

    private static string FindRoot()
    {
        for (var directory = AppContext.BaseDirectory; directory is not null; directory = Path.GetDirectoryName(directory))
        {
            if (File.Exists(Path.Combine(directory, "build.ps1")) && Directory.Exists(Path.Combine(directory, "src")))
            {
                return directory;
            }
        }

        throw new InvalidOperationException("the repository root (with build.ps1) was not found above " + AppContext.BaseDirectory);
    }
}
