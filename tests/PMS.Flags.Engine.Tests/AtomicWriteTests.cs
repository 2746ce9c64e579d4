using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Tests.Support;
using static PMS.Flags.Engine.Tests.Support.Documents;

namespace PMS.Flags.Engine.Tests;

/// <summary>Writes go to a temporary file that is renamed over the document: readers see old or new, never a mix.</summary>
public sealed class AtomicWriteTests : IDisposable
{
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public async Task No_temporary_files_remain_after_writes()
    {
        var path = temp.WriteText("feature_flags.json", Seed);
        var store = new LocalFileFlagStore(path);

        await store.ApplyAsync(Set("new_ui", "production", 5m), CancellationToken.None);
        await store.ApplyAsync(Set("new_ui", "production", 50m), CancellationToken.None);
        await store.ApplyAsync(Off("beta_search", "development"), CancellationToken.None);

        Assert.Empty(TempFiles(temp.Path));
        Assert.Empty(Directory.GetFiles(temp.Path, "*.tmp"));
        var files = Directory.GetFiles(temp.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(new[] { ".feature_flags.json.lock", "feature_flags.json" }, files);
    }

    [Fact]
    public async Task The_document_is_replaced_not_rewritten_in_place()
    {
        var path = temp.WriteText("feature_flags.json", Seed);
        var oldBytes = File.ReadAllBytes(path);
        var store = new LocalFileFlagStore(path);

        using var oldReader = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        await store.ApplyAsync(Set("new_ui", "production", 33.3m), CancellationToken.None);

        // A reader that opened the file before the write still holds the whole old document (a different inode);
        // truncating and rewriting in place would show it the new, or a torn, document.
        using var copy = new MemoryStream();
        await oldReader.CopyToAsync(copy);
        Assert.Equal(oldBytes, copy.ToArray());

        var newText = File.ReadAllText(path);
        Assert.Equal(Seed.Replace("\"new_ui\": false,\n    \"beta_search\": {\n", "\"new_ui\": { \"enabled\": true, \"rollout_percentage\": 33.3 },\n    \"beta_search\": {\n"), newText);
        Assert.Equal(33.3m, Parse(path)["production"]!["new_ui"]!["rollout_percentage"]!.Value<decimal>());
    }

    [Theory]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite)]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead)]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead)]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task The_file_mode_is_preserved(UnixFileMode mode)
    {
        var path = temp.WriteText("feature_flags.json", Seed);
        File.SetUnixFileMode(path, mode);
        var store = new LocalFileFlagStore(path);

        var result = await store.ApplyAsync(Set("new_ui", "staging", 10m), CancellationToken.None);

        Assert.True(result.Changed);
        Assert.Equal(mode, File.GetUnixFileMode(path));
        Assert.Equal(10m, Parse(path)["staging"]!["new_ui"]!["rollout_percentage"]!.Value<decimal>());
    }
}
