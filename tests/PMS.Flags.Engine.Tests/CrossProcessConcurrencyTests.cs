using System.Globalization;
using System.Text;
using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Tests.Support;

namespace PMS.Flags.Engine.Tests;

/// <summary>Two OS processes write at once through the engine: no update is lost and every document stays valid.</summary>
public sealed class CrossProcessConcurrencyTests : IDisposable
{
    private const int PerWriter = 40;
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    // Must match PercentageFor in the writer helper.
    private static decimal PercentageFor(int i) => i + 1 + 0.5m;

    /// <summary>
    /// Starts the writers, waits until each says it is ready, then lets them go together. The writers meet after their
    /// first write (see the writer helper), and this asserts that their spans of writing overlapped.
    /// </summary>
    private async Task RunTogetherAsync(params string[][] argumentSets)
    {
        var go = temp.Combine("go");
        var writers = new List<WriterProcess>();
        try
        {
            foreach (var arguments in argumentSets)
            {
                writers.Add(await WriterProcess.StartAsync(arguments.Append(go).ToArray()));
            }

            File.WriteAllText(go, "");
            foreach (var writer in writers)
            {
                var exitCode = await writer.WaitAsync();
                Assert.True(exitCode == 0, $"writer exited with {exitCode}: {await writer.StderrAsync()}");
            }

            var spans = new List<(DateTime First, DateTime Last)>();
            foreach (var writer in writers)
            {
                spans.Add(await writer.WriteSpanAsync());
            }

            Assert.True(spans.Max(s => s.First) <= spans.Min(s => s.Last), $"the writers did not overlap: {string.Join("; ", spans.Select(s => $"{s.First:O}..{s.Last:O}"))}");
        }
        finally
        {
            foreach (var writer in writers)
            {
                writer.Dispose();
            }
        }
    }

    [Fact]
    public async Task Two_processes_setting_flags_in_one_document_lose_no_update()
    {
        var document = new StringBuilder("{\n  \"staging\": { \"untouched\": true },\n  \"production\": {\n");
        var names = Enumerable.Range(0, PerWriter).SelectMany(i => new[] { $"a_{i}", $"b_{i}" }).ToArray();
        document.Append(string.Join(",\n", names.Select(n => $"    \"{n}\": false")));
        document.Append("\n  }\n}\n");
        var path = temp.WriteText("feature_flags.json", document.ToString());

        var count = PerWriter.ToString(CultureInfo.InvariantCulture);
        await RunTogetherAsync(
            new[] { "flags", path, "production", "a_", count },
            new[] { "flags", path, "production", "b_", count });

        var root = JObject.Parse(File.ReadAllText(path));
        Assert.True(JToken.DeepEquals(JObject.Parse("{ \"untouched\": true }"), root["staging"]));
        var production = (JObject)root["production"]!;
        Assert.Equal(names, production.Properties().Select(p => p.Name));
        var store = new LocalFileFlagStore(path);
        for (var i = 0; i < PerWriter; i++)
        {
            foreach (var prefix in new[] { "a_", "b_" })
            {
                var state = (await store.GetFlagsAsync("production", prefix + i, CancellationToken.None)).Single();
                Assert.True(state.On, $"{prefix}{i} is off: an update was lost");
                Assert.Equal(PercentageFor(i), state.Percentage);
            }
        }

        Assert.Empty(Documents.TempFiles(temp.Path));
    }

    [Fact]
    public async Task Two_processes_appending_to_one_ledger_lose_no_event()
    {
        const int perWriter = 40;
        var path = temp.Combine("audit.jsonl");
        var count = perWriter.ToString(CultureInfo.InvariantCulture);

        await RunTogetherAsync(
            new[] { "ledger", path, "writer-a", count },
            new[] { "ledger", path, "writer-b", count });

        var ledger = new JsonlLedger(path);
        var events = ledger.Read(AuditQuery.All, CancellationToken.None).ToArray();
        Assert.Equal(2 * perWriter, events.Length);
        Assert.Equal(Enumerable.Range(1, 2 * perWriter).Select(i => (long)i), events.Select(e => e.Sequence));
        foreach (var user in new[] { "writer-a", "writer-b" })
        {
            // Each writer's own events appear once each, in the order it wrote them.
            var reasons = events.Where(e => e.UserId == user).Select(e => e.Reason).ToArray();
            Assert.Equal(Enumerable.Range(0, perWriter).Select(i => $"{user}-{i}"), reasons);
        }

        // The appends interleaved: each writer has events both before and after the other's first one.
        var firstOfB = Array.FindIndex(events, e => e.UserId == "writer-b");
        var firstOfA = Array.FindIndex(events, e => e.UserId == "writer-a");
        Assert.Contains(events.Skip(firstOfB), e => e.UserId == "writer-a");
        Assert.Contains(events.Skip(firstOfA), e => e.UserId == "writer-b");

        var verification = ledger.Verify(CancellationToken.None);
        Assert.True(verification.Valid, verification.Message);
        Assert.Equal(2 * perWriter, verification.Count);
        Assert.Equal(events[^1].Hash, verification.HeadHash);
        Assert.Equal(2 * perWriter, await ledger.GetHeadSequenceAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Two_threads_in_one_process_lose_no_update_either()
    {
        var names = Enumerable.Range(0, 20).SelectMany(i => new[] { $"x_{i}", $"y_{i}" }).ToArray();
        var path = temp.WriteText("feature_flags.json", "{\"production\": {" + string.Join(", ", names.Select(n => $"\"{n}\": false")) + "}}");

        async Task Write(string prefix)
        {
            var store = new LocalFileFlagStore(path);
            for (var i = 0; i < 20; i++)
            {
                await Task.Yield();
                await store.ApplyAsync(new FlagChange(prefix + i, "production", FlagChangeKind.SetPercentage, PercentageFor(i)), CancellationToken.None);
            }
        }

        await Task.WhenAll(Task.Run(() => Write("x_")), Task.Run(() => Write("y_")));

        var production = (JObject)JObject.Parse(File.ReadAllText(path))["production"]!;
        Assert.Equal(names, production.Properties().Select(p => p.Name));
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(PercentageFor(i), production[$"x_{i}"]!["rollout_percentage"]!.Value<decimal>());
            Assert.Equal(PercentageFor(i), production[$"y_{i}"]!["rollout_percentage"]!.Value<decimal>());
        }
    }

    [Fact]
    public async Task A_writer_that_cannot_get_the_lock_gives_up_with_LockTimeout_and_changes_nothing()
    {
        var path = temp.WriteText("feature_flags.json", Documents.Seed);
        var before = File.ReadAllBytes(path);
        var store = new LocalFileFlagStore(path, lockTimeout: TimeSpan.FromMilliseconds(200));

        using (PMS.Flags.Engine.Common.ExclusiveFileLock.Acquire(temp.Combine(".feature_flags.json.lock"), TimeSpan.FromSeconds(5), CancellationToken.None))
        {
            var ex = await Assert.ThrowsAsync<PMS.Flags.Engine.Common.FlagsException>(() => store.ApplyAsync(Documents.Off("zeta", "production"), CancellationToken.None));
            Assert.Equal("LockTimeout", ex.ErrorId);
        }

        Assert.Equal(before, File.ReadAllBytes(path));
        var after = await store.ApplyAsync(Documents.Off("zeta", "production"), CancellationToken.None);
        Assert.True(after.Changed);
    }
}
