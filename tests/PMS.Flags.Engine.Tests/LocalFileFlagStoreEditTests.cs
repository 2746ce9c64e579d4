using System.Text;
using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Tests.Support;
using static PMS.Flags.Engine.Tests.Support.Documents;

namespace PMS.Flags.Engine.Tests;

/// <summary>A write changes that one flag's value bytes and nothing else in the document.</summary>
public sealed class LocalFileFlagStoreEditTests : IDisposable
{
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    private (string Path, LocalFileFlagStore Store) Seeded(string text = Seed)
    {
        var path = temp.WriteText("feature_flags.json", text);
        return (path, new LocalFileFlagStore(path));
    }

    [Fact]
    public async Task Partial_percentage_on_a_boolean_replaces_only_that_value_with_an_object()
    {
        var (path, store) = Seeded();
        var before = File.ReadAllBytes(path);

        var result = await store.ApplyAsync(Set("new_ui", "production", 25m), CancellationToken.None);

        Assert.True(result.Changed);
        Assert.False(result.Previous!.On);
        Assert.True(result.Current.On);
        Assert.Equal(25m, result.Current.Percentage);
        Bytes.AssertOnlyValueChanged(before, File.ReadAllBytes(path), "\"production\"", "false", "{ \"enabled\": true, \"rollout_percentage\": 25 }");

        var state = (await store.GetFlagsAsync("production", "new_ui", CancellationToken.None)).Single();
        Assert.True(state.On);
        Assert.Equal(25m, state.Percentage);
    }

    [Fact]
    public async Task Other_environments_flags_and_key_order_survive()
    {
        var (path, store) = Seeded();
        var original = JObject.Parse(Seed);

        await store.ApplyAsync(Set("beta_search", "production", 12.5m), CancellationToken.None);

        var after = Parse(path);
        Assert.Equal(original.Properties().Select(p => p.Name), after.Properties().Select(p => p.Name));
        Assert.True(JToken.DeepEquals(original["development"], after["development"]));
        Assert.True(JToken.DeepEquals(original["staging"], after["staging"]));
        var production = (JObject)after["production"]!;
        Assert.Equal(((JObject)original["production"]!).Properties().Select(p => p.Name), production.Properties().Select(p => p.Name));
        Assert.Equal(new[] { "owner", "enabled", "rollout_percentage", "description" }, ((JObject)production["beta_search"]!).Properties().Select(p => p.Name));
        Assert.Equal(12.5m, production["beta_search"]!["rollout_percentage"]!.Value<decimal>());
        Assert.Equal("team-search {not: \"json\"}", production["beta_search"]!["owner"]!.Value<string>());
        Assert.Equal("search v2, see [PMS-12]", production["beta_search"]!["description"]!.Value<string>());
        Assert.False(production["new_ui"]!.Value<bool>());
        Assert.True(production["zeta"]!.Value<bool>());
    }

    [Fact]
    public async Task Percentage_inside_an_object_changes_only_the_number_and_keeps_extra_keys()
    {
        var (path, store) = Seeded();
        var before = File.ReadAllBytes(path);

        var result = await store.ApplyAsync(Set("beta_search", "production", 12.5m), CancellationToken.None);

        Assert.True(result.Changed);
        Assert.Equal(10m, result.Previous!.Percentage);
        Assert.Equal(12.5m, result.Current.Percentage);
        Bytes.AssertOnlyValueChanged(before, File.ReadAllBytes(path), "\"production\"", "\"rollout_percentage\": 10", "\"rollout_percentage\": 12.5");
    }

    [Fact]
    public async Task Percentage_is_inserted_into_an_object_that_has_none_and_other_keys_stay()
    {
        var (path, store) = Seeded("{\"staging\":{\"f\":{\"enabled\":false,\"owner\":\"ops\"}}}");

        var result = await store.ApplyAsync(Set("f", "staging", 30m), CancellationToken.None);

        Assert.True(result.Changed);
        var flag = Parse(path)["staging"]!["f"]!;
        Assert.True(flag["enabled"]!.Value<bool>());
        Assert.Equal(30m, flag["rollout_percentage"]!.Value<decimal>());
        Assert.Equal("ops", flag["owner"]!.Value<string>());
        Assert.StartsWith("{\"staging\":{\"f\":{\"enabled\":true,\"owner\":\"ops\"", File.ReadAllText(path));
    }

    [Fact]
    public async Task Hundred_percent_on_a_boolean_writes_true()
    {
        var (path, store) = Seeded();
        var before = File.ReadAllBytes(path);

        var result = await store.ApplyAsync(Set("new_ui", "staging", 100m), CancellationToken.None);

        Assert.True(result.Changed);
        Assert.True(result.Current.On);
        Assert.Equal(100m, result.Current.Percentage);
        Bytes.AssertOnlyValueChanged(before, File.ReadAllBytes(path), "\"staging\"", "false", "true");
    }

    [Fact]
    public async Task TurnOff_on_a_boolean_writes_false()
    {
        var (path, store) = Seeded();
        var before = File.ReadAllBytes(path);

        var result = await store.ApplyAsync(Off("new_ui", "development"), CancellationToken.None);

        Assert.True(result.Changed);
        Assert.True(result.Previous!.On);
        Assert.False(result.Current.On);
        Assert.Equal(0m, result.Current.EffectivePercentage);
        Bytes.AssertOnlyValueChanged(before, File.ReadAllBytes(path), "\"development\"", "true", "false");
    }

    [Fact]
    public async Task TurnOff_inside_an_object_writes_enabled_false_and_keeps_the_percentage_and_extra_keys()
    {
        var (path, store) = Seeded();
        var before = File.ReadAllBytes(path);

        var result = await store.ApplyAsync(Off("beta_search", "production"), CancellationToken.None);

        Assert.True(result.Changed);
        Assert.False(result.Current.On);
        Assert.Equal(10m, result.Current.Percentage);
        Assert.Equal(0m, result.Current.EffectivePercentage);
        Bytes.AssertOnlyValueChanged(before, File.ReadAllBytes(path), "\"production\"", "\"enabled\": true", "\"enabled\": false");
    }

    [Fact]
    public async Task TurnOn_on_false_writes_true()
    {
        var (path, store) = Seeded();
        var before = File.ReadAllBytes(path);

        var result = await store.ApplyAsync(On("beta_search", "staging"), CancellationToken.None);

        Assert.True(result.Changed);
        Assert.True(result.Current.On);
        Assert.Equal(100m, result.Current.Percentage);
        Bytes.AssertOnlyValueChanged(before, File.ReadAllBytes(path), "\"staging\"", "\"beta_search\": false", "\"beta_search\": true");
    }

    [Fact]
    public async Task TurnOn_on_a_disabled_object_sets_enabled_and_keeps_the_percentage()
    {
        var (path, store) = Seeded("{\"staging\":{\"f\":{\"enabled\":false,\"rollout_percentage\":40}}}");

        var result = await store.ApplyAsync(On("f", "staging"), CancellationToken.None);

        Assert.True(result.Changed);
        Assert.Equal("{\"staging\":{\"f\":{\"enabled\":true,\"rollout_percentage\":40}}}", File.ReadAllText(path));
        Assert.Equal(40m, result.Current.EffectivePercentage);
    }

    [Fact]
    public async Task Crlf_line_endings_and_a_utf8_bom_survive_an_edit()
    {
        var crlf = Seed.Replace("\n", "\r\n");
        var path = temp.Combine("feature_flags.json");
        var before = new byte[] { 0xEF, 0xBB, 0xBF }.Concat(Bytes.Of(crlf)).ToArray();
        File.WriteAllBytes(path, before);
        var store = new LocalFileFlagStore(path);

        await store.ApplyAsync(Set("beta_search", "production", 20m), CancellationToken.None);
        await store.ApplyAsync(Off("new_ui", "development"), CancellationToken.None);

        var after = File.ReadAllBytes(path);
        Assert.Equal(new byte[] { 0xEF, 0xBB, 0xBF }, after.Take(3).ToArray());
        var afterText = Encoding.UTF8.GetString(after, 3, after.Length - 3);
        var expected = crlf
            .Replace("\"rollout_percentage\": 10,", "\"rollout_percentage\": 20,")
            .Replace("\"new_ui\": true,", "\"new_ui\": false,");
        Assert.Equal(expected, afterText);
        Assert.Equal(crlf.Split("\r\n").Length, afterText.Split("\r\n").Length);
        Assert.DoesNotContain("\n", afterText.Replace("\r\n", ""));
    }

    [Fact]
    public async Task A_document_with_a_bom_can_be_read()
    {
        var path = temp.Combine("feature_flags.json");
        File.WriteAllBytes(path, new byte[] { 0xEF, 0xBB, 0xBF }.Concat(Bytes.Of(Seed)).ToArray());
        var store = new LocalFileFlagStore(path);

        var environments = await store.GetEnvironmentsAsync(CancellationToken.None);
        var flag = (await store.GetFlagsAsync("production", "beta_search", CancellationToken.None)).Single();

        Assert.Equal(new[] { "development", "staging", "production" }, environments);
        Assert.True(flag.On);
        Assert.Equal(10m, flag.Percentage);
    }

    public static TheoryData<string, FlagChange> NoOpChanges => new()
    {
        { "beta_search", Set("beta_search", "production", 10m) },
        { "new_ui", Off("new_ui", "production") },
        { "zeta", On("zeta", "production") },
        { "zeta", Set("zeta", "production", 100m) },
    };

    [Theory]
    [MemberData(nameof(NoOpChanges))]
    public async Task An_idempotent_change_reports_unchanged_and_leaves_bytes_and_mtime_alone(string flag, FlagChange change)
    {
        var (path, store) = Seeded();
        var past = new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(path, past);
        var before = File.ReadAllBytes(path);

        var result = await store.ApplyAsync(change, CancellationToken.None);

        Assert.Equal(flag, result.Current.Flag);
        Assert.False(result.Changed);
        Assert.Equal(result.Previous!.On, result.Current.On);
        Assert.Equal(result.Previous.Percentage, result.Current.Percentage);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(past, File.GetLastWriteTimeUtc(path));
        Assert.Empty(TempFiles(temp.Path));
    }

    [Fact]
    public async Task The_same_percentage_spelled_differently_is_not_a_change()
    {
        // "25.0" in the file and a request for 25: the flag is already there, and the file's number spelling is kept.
        var (path, store) = Seeded("{\"staging\":{\"f\":{\"enabled\":true,\"rollout_percentage\":25.0}}}");
        var before = File.ReadAllBytes(path);

        var result = await store.ApplyAsync(Set("f", "staging", 25m), CancellationToken.None);

        Assert.False(result.Changed);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public async Task Preview_reports_the_change_without_writing()
    {
        var (path, store) = Seeded();
        var before = File.ReadAllBytes(path);

        var preview = await store.PreviewAsync(Set("new_ui", "staging", 5m), CancellationToken.None);

        Assert.True(preview.Changed);
        Assert.Equal(5m, preview.Current.Percentage);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public async Task Keys_with_escapes_are_located_correctly()
    {
        // Decoys sit next to the targets: a key that differs only by escaping, and a string value holding the target's name.
        var text =
            "{\"pro\\u0064uction\": {\n" +
            "  \"a\\\\b\": false,\n" +
            "  \"decoy\": \"\\\"a\\\\\\\"b\\\": false\",\n" +
            "  \"a\\\"b\": false,\n" +
            "  \"caf\\u00e9\": false,\n" +
            "  \"cafe\": false,\n" +
            "  \"tab\\tkey\": false\n" +
            "}}";
        var (path, store) = Seeded(text);

        await store.ApplyAsync(On("a\"b", "production"), CancellationToken.None);
        await store.ApplyAsync(Set("café", "production", 7m), CancellationToken.None);
        await store.ApplyAsync(On("tab\tkey", "production"), CancellationToken.None);

        var expected = text
            .Replace("\"a\\\"b\": false", "\"a\\\"b\": true")
            .Replace("\"caf\\u00e9\": false", "\"caf\\u00e9\": { \"enabled\": true, \"rollout_percentage\": 7 }")
            .Replace("\"tab\\tkey\": false", "\"tab\\tkey\": true");
        Assert.Equal(expected, File.ReadAllText(path));
        var production = (JObject)Parse(path)["production"]!;
        Assert.False(production["a\\b"]!.Value<bool>());
        Assert.False(production["cafe"]!.Value<bool>());
        Assert.Equal("\"a\\\"b\": false", production["decoy"]!.Value<string>());
    }
}
