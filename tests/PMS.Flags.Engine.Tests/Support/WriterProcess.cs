using System.Diagnostics;
using System.Runtime.InteropServices;

namespace PMS.Flags.Engine.Tests.Support;

/// <summary>
/// Runs tests/PMS.Flags.Engine.Tests.Writer as a separate OS process. The test project references it, so the build
/// copies its dll, deps.json and runtimeconfig.json next to the test assembly.
/// </summary>
public sealed class WriterProcess : IDisposable
{
    private readonly Process process;
    private readonly Task<string> stderr;

    private WriterProcess(Process process)
    {
        this.process = process;
        stderr = process.StandardError.ReadToEndAsync();
    }

    public static string WriterDll => Path.Combine(AppContext.BaseDirectory, "PMS.Flags.Engine.Tests.Writer.dll");

    /// <summary>Starts the writer and waits until it reports that it is waiting for the go file.</summary>
    public static async Task<WriterProcess> StartAsync(params string[] arguments)
    {
        Assert.True(File.Exists(WriterDll), $"the writer helper was not built next to the tests: {WriterDll}");
        var info = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(WriterDll);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var writer = new WriterProcess(Process.Start(info)!);
        var ready = await writer.process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        if (ready != "ready")
        {
            writer.Dispose();
            Assert.Fail($"writer ({info.FileName} {string.Join(' ', info.ArgumentList)}) did not report ready: '{ready}', stderr: {await writer.stderr}");
        }

        return writer;
    }

    public async Task<int> WaitAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return process.ExitCode;
    }

    public async Task<string> StderrAsync() => await stderr.WaitAsync(TimeSpan.FromSeconds(5));

    /// <summary>What the writer printed after "ready"; read once it has exited.</summary>
    public async Task<string> StdoutAsync() => await process.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(5));

    /// <summary>When the writer made its first and its last write (it prints both), to check that writers overlapped.</summary>
    public async Task<(DateTime First, DateTime Last)> WriteSpanAsync()
    {
        var lines = (await StdoutAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        DateTime Tick(string word) => new(long.Parse(lines.Single(l => l.StartsWith(word + " ", StringComparison.Ordinal))[(word.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture), DateTimeKind.Utc);
        return (Tick("first"), Tick("last"));
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            process.Kill();
            process.WaitForExit();
        }

        process.Dispose();
    }

    private static string DotnetHost()
    {
        var fromCli = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(fromCli) && File.Exists(fromCli))
        {
            return fromCli;
        }

        // <dotnet root>/shared/Microsoft.NETCore.App/<version>/ -> <dotnet root>/dotnet
        var root = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        var muxer = Path.Combine(root, OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet");
        return File.Exists(muxer) ? muxer : "dotnet";
    }
}
