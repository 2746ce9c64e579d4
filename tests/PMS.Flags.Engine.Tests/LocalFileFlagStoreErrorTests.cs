using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Tests.Support;
using static PMS.Flags.Engine.Tests.Support.Documents;

namespace PMS.Flags.Engine.Tests;

/// <summary>The store refuses what it cannot address or parse, with a stable ErrorId, and leaves the file as it was.</summary>
public sealed class LocalFileFlagStoreErrorTests : IDisposable
{
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    private async Task<FlagsException> AssertRefused(string text, FlagChange change, string errorId)
    {
        var path = temp.WriteText("feature_flags.json", text);
        var before = File.ReadAllBytes(path);
        var store = new LocalFileFlagStore(path);

        var ex = await Assert.ThrowsAsync<FlagsException>(() => store.ApplyAsync(change, CancellationToken.None));

        Assert.Equal(errorId, ex.ErrorId);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Empty(TempFiles(temp.Path));
        return ex;
    }

    [Fact]
    public async Task Unknown_environment_is_EnvironmentNotFound()
    {
        var ex = await AssertRefused(Seed, Set("new_ui", "prod", 5m), "EnvironmentNotFound");
        Assert.Equal(FlagsErrorKind.ObjectNotFound, ex.Kind);
        Assert.Contains("production", ex.Message);
    }

    [Fact]
    public async Task Unknown_flag_is_FlagNotFound()
    {
        var ex = await AssertRefused(Seed, Off("no_such_flag", "production"), "FlagNotFound");
        Assert.Equal(FlagsErrorKind.ObjectNotFound, ex.Kind);
    }

    [Fact]
    public async Task Flag_names_are_case_sensitive()
    {
        await AssertRefused(Seed, Off("NEW_UI", "production"), "FlagNotFound");
    }

    [Fact]
    public async Task Reading_an_unknown_environment_or_flag_fails_the_same_way()
    {
        var path = temp.WriteText("feature_flags.json", Seed);
        var store = new LocalFileFlagStore(path);

        var env = await Assert.ThrowsAsync<FlagsException>(() => store.GetFlagsAsync("qa", null, CancellationToken.None));
        var flag = await Assert.ThrowsAsync<FlagsException>(() => store.GetFlagsAsync("staging", "zeta", CancellationToken.None));

        Assert.Equal("EnvironmentNotFound", env.ErrorId);
        Assert.Equal("FlagNotFound", flag.ErrorId);
    }

    public static TheoryData<string, string> MalformedDocuments => new()
    {
        { "truncated", Seed[..(Seed.Length / 2)] },
        { "truncated inside the target", "{\"production\": {\"new_ui\": fal" },
        { "junk after the document", Seed + ",{}" },
        { "trailing comma in the environment", "{\"production\": {\"new_ui\": false, \"zeta\": true,}}" },
        { "trailing comma at the top level", "{\"production\": {\"new_ui\": false},}" },
        { "trailing comma inside the flag object", "{\"production\": {\"new_ui\": {\"enabled\": true, \"rollout_percentage\": 5,}}}" },
        { "top-level array", "[{\"production\": {\"new_ui\": false}}]" },
        { "top-level scalar", "true" },
        { "empty file", "" },
        { "duplicate target environment", "{\"production\": {\"new_ui\": false}, \"production\": {\"new_ui\": true}}" },
        { "duplicate other environment", "{\"staging\": {\"new_ui\": false}, \"production\": {\"new_ui\": false}, \"staging\": {\"new_ui\": true}}" },
        { "duplicate target flag", "{\"production\": {\"new_ui\": false, \"new_ui\": true}}" },
        { "a comment", "{\"production\": {\"new_ui\": false} // reviewed\n}" },
        { "single quotes", "{'production': {'new_ui': false}}" },
        { "an unquoted key", "{production: {\"new_ui\": false}}" },
    };

    [Fact]
    public async Task A_top_level_key_that_is_not_an_object_of_flags_is_not_an_environment_and_is_kept()
    {
        // "production" holding an array is not an environment: reads skip it, and a change there is EnvironmentNotFound.
        var ex = await AssertRefused("{\"production\": [\"new_ui\"]}", Set("new_ui", "production", 25m), "EnvironmentNotFound");
        Assert.Equal(FlagsErrorKind.ObjectNotFound, ex.Kind);
    }

    [Theory]
    [MemberData(nameof(MalformedDocuments))]
    public async Task A_malformed_document_is_refused_and_left_byte_identical(string kind, string text)
    {
        var ex = await AssertRefused(text, Set("new_ui", "production", 25m), "FlagDocumentMalformed");
        Assert.Equal(FlagsErrorKind.InvalidData, ex.Kind);
        _ = kind; // names the case in the test list; asserting it would check the test's own data
    }

    [Fact]
    public async Task Invalid_utf8_is_malformed()
    {
        var path = temp.Combine("feature_flags.json");
        var bytes = Bytes.Of("{\"production\": {\"new_ui\": false, \"x\": \"").Concat(new byte[] { 0xC3, 0x28 }).Concat(Bytes.Of("\"}}")).ToArray();
        File.WriteAllBytes(path, bytes);

        var ex = await Assert.ThrowsAsync<FlagsException>(() => new LocalFileFlagStore(path).ApplyAsync(Off("new_ui", "production"), CancellationToken.None));

        Assert.Equal("FlagDocumentMalformed", ex.ErrorId);
        Assert.Equal(bytes, File.ReadAllBytes(path));
    }

    [Fact]
    public async Task A_missing_file_is_FlagDocumentNotFound()
    {
        var store = new LocalFileFlagStore(temp.Combine("nope.json"));
        var inMissingDirectory = new LocalFileFlagStore(temp.Combine("missing-dir", "feature_flags.json"));

        var write = await Assert.ThrowsAsync<FlagsException>(() => store.ApplyAsync(Off("new_ui", "production"), CancellationToken.None));
        var read = await Assert.ThrowsAsync<FlagsException>(() => store.GetFlagsAsync("production", null, CancellationToken.None));
        var nested = await Assert.ThrowsAsync<FlagsException>(() => inMissingDirectory.GetEnvironmentsAsync(CancellationToken.None));

        Assert.Equal("FlagDocumentNotFound", write.ErrorId);
        Assert.Equal("FlagDocumentNotFound", read.ErrorId);
        Assert.Equal("FlagDocumentNotFound", nested.ErrorId);
        Assert.False(File.Exists(store.Path));
    }

    public static TheoryData<string, string> UnsupportedValues => new()
    {
        { "a string", "{\"production\": {\"f\": \"on\"}}" },
        { "a number", "{\"production\": {\"f\": 1}}" },
        { "null", "{\"production\": {\"f\": null}}" },
        { "percentage 150", "{\"production\": {\"f\": {\"enabled\": true, \"rollout_percentage\": 150}}}" },
        { "negative percentage", "{\"production\": {\"f\": {\"enabled\": true, \"rollout_percentage\": -1}}}" },
        { "percentage as a string", "{\"production\": {\"f\": {\"enabled\": true, \"rollout_percentage\": \"25\"}}}" },
        { "object without enabled", "{\"production\": {\"f\": {\"rollout_percentage\": 25}}}" },
        { "enabled as a string", "{\"production\": {\"f\": {\"enabled\": \"yes\", \"rollout_percentage\": 25}}}" },
    };

    [Theory]
    [MemberData(nameof(UnsupportedValues))]
    public async Task An_unsupported_value_is_FlagValueUnsupported(string kind, string text)
    {
        var ex = await AssertRefused(text, Set("f", "production", 25m), "FlagValueUnsupported");
        Assert.Equal(FlagsErrorKind.InvalidData, ex.Kind);
        Assert.Equal("f", ex.Target);
        _ = kind; // names the case in the test list; asserting it would check the test's own data

        var read = await Assert.ThrowsAsync<FlagsException>(() => new LocalFileFlagStore(temp.Combine("feature_flags.json")).GetFlagsAsync("production", "f", CancellationToken.None));
        Assert.Equal("FlagValueUnsupported", read.ErrorId);
    }
}
