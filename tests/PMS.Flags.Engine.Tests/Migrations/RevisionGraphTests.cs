using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Migrations;
using PMS.Flags.Engine.Tests.Support;

namespace PMS.Flags.Engine.Tests.Migrations;

public sealed class RevisionGraphTests
{
    private static RevisionGraph Fixture() => RevisionGraph.Load(AlembicProject.Locate(AlembicFixture.IniPath).VersionDirectories);

    /// <summary>Renders a revision as alembic history prints it (Script._head_only with parents, branches, tree indicators and doc).</summary>
    private static string HistoryLine(MigrationRevision r)
        => $"{r.DownRevision} -> {r.Revision}"
           + (r.BranchLabels.Count > 0 ? $" ({string.Join(", ", r.BranchLabels)})" : "")
           + (r.IsHead ? " (head)" : "")
           + (r.IsBranchPoint ? " (branchpoint)" : "")
           + (r.IsMergePoint ? " (mergepoint)" : "")
           + $", {r.Message}";

    [Fact]
    public void The_graph_read_without_python_matches_real_alembic_history()
    {
        var alembic = AlembicFixture.Run(AlembicFixture.IniPath, null, "history")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var ours = Fixture().TopologicalFromHeads().Select(HistoryLine).ToArray();

        Assert.Equal(5, alembic.Length);
        Assert.Equal(alembic, ours);
    }

    [Fact]
    public void Heads_match_real_alembic_heads()
    {
        var alembic = AlembicFixture.Run(AlembicFixture.IniPath, null, "heads").Trim();
        Assert.Equal("0005 (indexes) (head)", alembic);
        Assert.Equal(new[] { "0005" }, Fixture().Heads);
    }

    [Fact]
    public void Reads_merge_tuples_branch_labels_and_docstrings()
    {
        var graph = Fixture();
        Assert.Equal(new[] { "0002", "0003" }, graph["0004"].DownRevisions);
        Assert.True(graph["0004"].IsMergePoint);
        Assert.True(graph["0001"].IsBranchPoint);
        Assert.True(graph["0001"].IsBase);
        Assert.Equal(new[] { "indexes" }, graph["0002"].OwnBranchLabels);
        Assert.Empty(graph["0001"].BranchLabels);
        Assert.Empty(graph["0003"].BranchLabels);
        Assert.Equal("merge indexes and notes", graph["0004"].Message);
        Assert.Equal(new[] { "0001" }, graph.Bases);
    }

    [Theory]
    [InlineData("0001", MigrationClassification.Destructive)]
    [InlineData("0002", MigrationClassification.Reversible)]
    [InlineData("0003", MigrationClassification.Destructive)]
    [InlineData("0004", MigrationClassification.Reversible)]
    [InlineData("0005", MigrationClassification.Reversible)]
    public void Classifies_each_fixture_revision(string revision, MigrationClassification expected)
        => Assert.Equal(expected, Fixture()[revision].Classification);

    [Theory]
    [InlineData("0003", new[] { "0003" })]
    [InlineData("00", null)]
    [InlineData("head", new[] { "0005" })]
    [InlineData("heads", new[] { "0005" })]
    [InlineData("base", new string[0])]
    [InlineData("indexes", new[] { "0002" })]
    [InlineData("indexes@head", new[] { "0005" })]
    public void Resolves_alembic_identifiers(string identifier, string[]? expected)
    {
        if (expected is null)
        {
            Assert.Equal(MigrationErrorIds.AmbiguousRevision, Assert.Throws<FlagsException>(() => Fixture().Resolve(identifier)).ErrorId);
            return;
        }

        Assert.Equal(expected, Fixture().Resolve(identifier));
    }

    [Fact]
    public void An_unknown_revision_is_RevisionNotFound()
        => Assert.Equal(MigrationErrorIds.RevisionNotFound, Assert.Throws<FlagsException>(() => Fixture().Resolve("9999")).ErrorId);

    [Fact]
    public void A_folder_without_revisions_is_NoRevisions()
    {
        using var temp = new TempDirectory();
        temp.WriteText("helpers.py", "def helper():\n    pass\n");
        Assert.Equal(MigrationErrorIds.NoRevisions, Assert.Throws<FlagsException>(() => RevisionGraph.Load(new[] { temp.Path })).ErrorId);
    }

    [Fact]
    public void A_down_revision_no_script_defines_is_a_broken_graph()
    {
        using var temp = new TempDirectory();
        temp.WriteText("a.py", "revision = 'a'\ndown_revision = 'missing'\n");
        Assert.Equal(MigrationErrorIds.BrokenGraph, Assert.Throws<FlagsException>(() => RevisionGraph.Load(new[] { temp.Path })).ErrorId);
    }

    [Fact]
    public void A_revision_that_is_not_a_literal_is_unreadable_without_python()
    {
        using var temp = new TempDirectory();
        temp.WriteText("a.py", "revision = make_id()\ndown_revision = None\n");
        Assert.Equal(MigrationErrorIds.ScriptUnreadable, Assert.Throws<FlagsException>(() => RevisionGraph.Load(new[] { temp.Path })).ErrorId);
    }

    [Fact]
    public void Reads_the_typed_headers_of_newer_templates_and_multi_line_tuples()
    {
        using var temp = new TempDirectory();
        temp.WriteText("a.py", "\"\"\"first\n\nmore\"\"\"\nrevision: str = \"a1\"\ndown_revision: Union[str, None] = None\n");
        temp.WriteText("b.py", "revision: str = 'b2'\ndown_revision = None\n");
        temp.WriteText("c.py", "revision = 'c3'\ndown_revision = (\n    'a1',  # left\n    'b2',\n)\nbranch_labels = ['x']\n");
        var graph = RevisionGraph.Load(new[] { temp.Path });
        Assert.Equal(new[] { "a1", "b2" }, graph["c3"].DownRevisions);
        Assert.Equal(new[] { "x" }, graph["c3"].OwnBranchLabels);
        Assert.Equal("first", graph["a1"].Message);
        Assert.Equal(new[] { "a1", "b2" }, graph.Bases);
    }

    [Fact]
    public void Locates_the_project_from_its_ini_its_script_directory_or_its_versions_folder()
    {
        foreach (var path in new[] { AlembicFixture.IniPath, AlembicFixture.ProjectDirectory, Path.Combine(AlembicFixture.ProjectDirectory, "migrations"), AlembicFixture.VersionsDirectory })
        {
            var project = AlembicProject.Locate(path);
            Assert.Equal(AlembicFixture.IniPath, project.IniPath);
            Assert.Equal(new[] { AlembicFixture.VersionsDirectory }, project.VersionDirectories);
        }
    }

    [Fact]
    public void A_missing_script_location_is_ScriptLocationNotFound()
        => Assert.Equal(MigrationErrorIds.ScriptLocationNotFound, Assert.Throws<FlagsException>(() => AlembicProject.Locate("/nonexistent/alembic")).ErrorId);
}
