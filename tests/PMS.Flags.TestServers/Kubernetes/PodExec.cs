using System.ComponentModel;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Http;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace PMS.Flags.TestServers.Kubernetes;

/// <summary>
/// GET /api/v1/namespaces/{ns}/pods/{pod}/exec over a websocket, as the API server and kubelet speak it to
/// KubernetesClient (v4.channel.k8s.io) and kubectl ≥ 1.30 (v5.channel.k8s.io): every binary frame starts with its
/// channel (0 stdin, 1 stdout, 2 stderr, 3 status); the status frame is a v1 Status, Success or Failure with reason
/// NonZeroExitCode and the code in details.causes[reason=ExitCode]; v5 adds the client's "close stdin" frame (255, 0);
/// the server sends none (kubectl 1.32 discards them as an unknown stream). The
/// command runs on this machine as if inside the container: the container's env and workingDir, nothing else of
/// the stand-in's environment but PATH and HOME.
/// </summary>
internal static class PodExec
{
    public const string V4 = "v4.channel.k8s.io";
    public const string V5 = "v5.channel.k8s.io";
    private const byte StdIn = 0;
    private const byte StdOut = 1;
    private const byte StdErr = 2;
    private const byte Status = 3;
    private const byte CloseChannel = 255;

    public static async Task HandleAsync(HttpContext context, KubernetesCluster cluster, KubernetesStandInOptions options, string ns, string podName)
    {
        var request = context.Request;
        var presented = request.Headers.Authorization.ToString();
        var authorization = string.IsNullOrEmpty(presented) ? "missing" : presented == "Bearer " + options.Token ? "valid" : "invalid";
        var record = cluster.Record(sequence => new KubeRequest
        {
            Sequence = sequence,
            Time = DateTimeOffset.UtcNow,
            Scheme = request.Scheme,
            Method = request.Method,
            Path = request.Path.Value ?? "",
            Query = request.QueryString.Value ?? "",
            UserAgent = request.Headers.UserAgent.ToString(),
            Accept = request.Headers.Accept.ToString(),
            Authorization = authorization,
        });

        try
        {
            if (authorization != "valid")
            {
                throw KubeError.Unauthorized();
            }

            if (request.Method is not ("GET" or "POST"))
            {
                throw new KubeError(405, "MethodNotAllowed", $"the server does not allow this method on the requested resource ({request.Method})");
            }

            var query = request.Query;
            var command = query["command"].Where(c => c is not null).Select(c => c!).ToArray();
            if (command.Length == 0)
            {
                throw KubeError.BadRequest("you must specify at least 1 command");
            }

            var stdin = Flag(query["stdin"].FirstOrDefault());
            var stdout = Flag(query["stdout"].FirstOrDefault());
            var stderr = Flag(query["stderr"].FirstOrDefault());
            if (!stdin && !stdout && !stderr)
            {
                throw KubeError.BadRequest("you must specify at least one of stdin, stdout, stderr");
            }

            var target = cluster.ResolveExec(ns, podName, query["container"].FirstOrDefault());
            if (!context.WebSockets.IsWebSocketRequest)
            {
                throw KubeError.BadRequest("Upgrade request required");
            }

            var offered = context.WebSockets.WebSocketRequestedProtocols;
            var protocol = offered.FirstOrDefault(p => p is V5 or V4) ?? throw KubeError.BadRequest($"none of the requested subprotocols ({string.Join(", ", offered)}) is supported; this server speaks {V5} and {V4}");
            record.Status = 101;
            using var socket = await context.WebSockets.AcceptWebSocketAsync(protocol).ConfigureAwait(false);
            await RunAsync(context, socket, protocol == V5, target, command, stdin, stdout, stderr, cluster.TakeExecDrop(command)).ConfigureAwait(false);
        }
        catch (KubeError error)
        {
            record.Status = error.Code;
            context.Response.StatusCode = error.Code;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(error.ToStatus().ToString(Formatting.None), Encoding.UTF8).ConfigureAwait(false);
        }
    }

    private static bool Flag(string? value) => value is "1" or "true" or "True";

    private static async Task RunAsync(HttpContext context, WebSocket socket, bool v5, ExecTarget target, string[] command, bool stdin, bool stdout, bool stderr, int? dropAfterLines)
    {
        var sending = new SemaphoreSlim(1, 1);
        var dropped = false;
        var lines = 0;

        async Task SendAsync(byte channel, byte[] data, int count)
        {
            await sending.WaitAsync().ConfigureAwait(false);
            try
            {
                if (dropped || socket.State != WebSocketState.Open)
                {
                    return;
                }

                var frame = new byte[count + 1];
                frame[0] = channel;
                Buffer.BlockCopy(data, 0, frame, 1, count);
                await socket.SendAsync(frame, WebSocketMessageType.Binary, true, CancellationToken.None).ConfigureAwait(false);
                if (dropAfterLines is { } limit && channel is StdOut or StdErr)
                {
                    lines += data.Take(count).Count(b => b == (byte)'\n');
                    if (lines >= limit)
                    {
                        // The fault: the TCP connection goes away without a close frame or a status; the command runs on.
                        dropped = true;
                        context.Abort();
                    }
                }
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
            {
                dropped = true;
            }
            finally
            {
                sending.Release();
            }
        }

        var info = new ProcessStartInfo(command[0])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = target.WorkingDirectory,
        };
        foreach (var argument in command.Skip(1))
        {
            info.ArgumentList.Add(argument);
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin";
        info.Environment.Clear();
        info.Environment["PATH"] = path;
        info.Environment["HOME"] = "/root";
        info.Environment["HOSTNAME"] = target.Pod;
        foreach (var (name, value) in target.Environment)
        {
            info.Environment[name] = value;
        }

        using var process = new Process { StartInfo = info };
        try
        {
            if (!Directory.Exists(target.WorkingDirectory))
            {
                throw new Win32Exception($"chdir to cwd (\"{target.WorkingDirectory}\") set in config.json failed: no such file or directory");
            }

            process.Start();
        }
        catch (Win32Exception ex)
        {
            // What runc reports for a command it cannot start: a line on stderr and exit code 126 (kubectl: "command terminated with exit code 126").
            var message = Encoding.UTF8.GetBytes($"OCI runtime exec failed: exec failed: unable to start container process: exec: \"{command[0]}\": {ex.Message}: unknown\r\n");
            await SendAsync(StdErr, message, message.Length).ConfigureAwait(false);
            await FinishAsync(socket, sending, () => dropped, ExitStatus(126)).ConfigureAwait(false);
            return;
        }

        var receiving = ReceiveAsync(socket, v5, stdin ? process.StandardInput.BaseStream : null);
        if (!stdin)
        {
            process.StandardInput.Close();
        }

        var pumps = new[]
        {
            PumpAsync(process.StandardOutput.BaseStream, stdout ? StdOut : null, SendAsync),
            PumpAsync(process.StandardError.BaseStream, stderr ? StdErr : null, SendAsync),
        };
        await Task.WhenAll(pumps).ConfigureAwait(false);
        await process.WaitForExitAsync().ConfigureAwait(false);
        await FinishAsync(socket, sending, () => dropped, process.ExitCode == 0 ? new JObject { ["metadata"] = new JObject(), ["status"] = "Success" } : ExitStatus(process.ExitCode)).ConfigureAwait(false);
        await Task.WhenAny(receiving, Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false);
    }

    private static async Task PumpAsync(Stream source, byte? channel, Func<byte, byte[], int, Task> send)
    {
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await source.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            // A channel the client did not ask for is drained and discarded, so the process never blocks on a full pipe.
            if (channel is { } c)
            {
                await send(c, buffer, read).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Client frames: stdin data goes to the process; a v5 close of channel 0 (or the socket closing) ends its stdin.</summary>
    private static async Task ReceiveAsync(WebSocket socket, bool v5, Stream? processStdin)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (socket.State == WebSocketState.Open)
            {
                var result = await socket.ReceiveAsync(buffer, CancellationToken.None).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                if (result.Count == 0)
                {
                    continue;
                }

                if (v5 && buffer[0] == CloseChannel && result.Count >= 2 && buffer[1] == StdIn)
                {
                    processStdin?.Close();
                    processStdin = null;
                }
                else if (buffer[0] == StdIn && processStdin is not null && result.Count > 1)
                {
                    await processStdin.WriteAsync(buffer.AsMemory(1, result.Count - 1)).ConfigureAwait(false);
                    await processStdin.FlushAsync().ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The client went away; the command's own end decides the rest.
        }
        finally
        {
            try
            {
                processStdin?.Close();
            }
            catch (IOException)
            {
                // The process already exited.
            }
        }
    }

    private static JObject ExitStatus(int code) => new()
    {
        ["metadata"] = new JObject(),
        ["status"] = "Failure",
        ["message"] = $"command terminated with non-zero exit code: error executing command [...], exit code {code}",
        ["reason"] = "NonZeroExitCode",
        ["details"] = new JObject { ["causes"] = new JArray(new JObject { ["reason"] = "ExitCode", ["message"] = code.ToString(System.Globalization.CultureInfo.InvariantCulture) }) },
    };

    private static async Task FinishAsync(WebSocket socket, SemaphoreSlim sending, Func<bool> dropped, JObject status)
    {
        await sending.WaitAsync().ConfigureAwait(false);
        try
        {
            if (dropped() || socket.State != WebSocketState.Open)
            {
                return;
            }

            var body = Encoding.UTF8.GetBytes(status.ToString(Formatting.None));
            var frame = new byte[body.Length + 1];
            frame[0] = Status;
            body.CopyTo(frame, 1);
            await socket.SendAsync(frame, WebSocketMessageType.Binary, true, CancellationToken.None).ConfigureAwait(false);
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client hung up first: nothing left to tell it.
        }
        finally
        {
            sending.Release();
        }
    }
}
