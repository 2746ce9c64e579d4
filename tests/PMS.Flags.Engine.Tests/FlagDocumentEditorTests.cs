using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Flags;

namespace PMS.Flags.Engine.Tests;

/// <summary>The editor works on text alone, so any store holding a flag document (a file, a ConfigMap key) reuses it.</summary>
public sealed class FlagDocumentEditorTests
{
    private const string Text = "\uFEFF{\r\n  \"staging\": { \"a\": true, \"b\": { \"enabled\": false, \"rollout_percentage\": 25.0, \"owner\": \"x\" } },\r\n  \"production\": { \"a\": false }\r\n}\r\n";

    [Fact]
    public void Reads_environments_and_flags_from_text()
    {
        var editor = new FlagDocumentEditor(Text, "configmap:ns/name/key");

        Assert.Equal(new[] { "staging", "production" }, editor.ReadEnvironments());
        var b = editor.ReadFlags("staging", "b").Single();
        Assert.False(b.On);
        Assert.Equal(25m, b.Percentage);
        Assert.Equal(2, editor.ReadFlags("staging", null).Count);
    }

    [Fact]
    public void An_edit_changes_only_that_value_and_leaves_the_editor_text_alone()
    {
        var editor = new FlagDocumentEditor(Text, "doc");

        var edit = editor.Edit(new FlagChange("b", "staging", FlagChangeKind.SetPercentage, 50m));

        Assert.True(edit.Changed);
        Assert.Equal(Text.Replace("\"enabled\": false, \"rollout_percentage\": 25.0", "\"enabled\": true, \"rollout_percentage\": 50"), edit.NewText);
        Assert.Equal(Text, editor.Text);
        Assert.Equal((false, 25m), (edit.Before.On, edit.Before.Percentage));
        Assert.Equal((true, 50m), (edit.After.On, edit.After.Percentage));
    }

    [Fact]
    public void Same_meaning_in_another_spelling_is_no_change()
    {
        var edit = new FlagDocumentEditor(Text, "doc").Edit(new FlagChange("a", "production", FlagChangeKind.TurnOff));

        Assert.False(edit.Changed);
    }

    [Fact]
    public void Errors_name_the_document_given()
    {
        var ex = Assert.Throws<FlagsException>(() => new FlagDocumentEditor("{ \"a\": {}, \"a\": {} }", "configmap:ns/n/k").Edit(new FlagChange("x", "a", FlagChangeKind.TurnOff)));

        Assert.Equal("FlagDocumentMalformed", ex.ErrorId);
        Assert.Contains("configmap:ns/n/k", ex.Message);
        Assert.Equal("FlagDocumentMalformed", Assert.Throws<FlagsException>(() => FlagDocumentEditor.FromBytes(new byte[] { 0x7B, 0xFF, 0x7D }, "doc")).ErrorId);
    }
}
