using System.Net;
using System.Text;
using PMS.Flags.Engine.Tests.Rollouts;

namespace PMS.Flags.Engine.Tests.Guardrails;

/// <summary>
/// A real HTTP server on 127.0.0.1 (System.Net.HttpListener, no web SDK needed), for the checks that must go through
/// sockets: URL encoding, path prefixes, status codes, latency.
/// </summary>
internal sealed class LoopbackServer : IDisposable
{
    private readonly HttpListener listener = new();
    private readonly Func<HttpListenerRequest, (int Status, string Body)> handler;
    private readonly Task loop;
    private readonly List<string> requests = new();

    public LoopbackServer(Func<HttpListenerRequest, (int Status, string Body)> handler, string pathPrefix = "/")
    {
        this.handler = handler;
        Port = FreePort.Next();
        listener.Prefixes.Add($"http://127.0.0.1:{Port}{pathPrefix}");
        listener.Start();
        BaseUrl = new Uri($"http://127.0.0.1:{Port}{pathPrefix}");
        loop = Task.Run(ServeAsync);
    }

    public int Port { get; }

    public Uri BaseUrl { get; }

    public IReadOnlyList<string> Requests
    {
        get
        {
            lock (requests)
            {
                return requests.ToArray();
            }
        }
    }

    public void Dispose()
    {
        listener.Stop();
        listener.Close();
        try
        {
            loop.Wait(TimeSpan.FromSeconds(2));
        }
        catch (AggregateException)
        {
        }
    }

    private async Task ServeAsync()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            lock (requests)
            {
                requests.Add(context.Request.RawUrl ?? "");
            }

            var (status, body) = handler(context.Request);
            var bytes = Encoding.UTF8.GetBytes(body);
            context.Response.StatusCode = status;
            context.Response.ContentType = "application/json";
            context.Response.ContentLength64 = bytes.Length;
            await context.Response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
            context.Response.Close();
        }
    }
}
