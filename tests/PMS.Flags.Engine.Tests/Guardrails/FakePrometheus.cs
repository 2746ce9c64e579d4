using System.Net;
using System.Text;
using System.Web;
using Newtonsoft.Json.Linq;

namespace PMS.Flags.Engine.Tests.Guardrails;

/// <summary>
/// Prometheus' HTTP API (GET /api/v1/query) as an HttpMessageHandler: answers per query, in the real wire format
/// (vector/scalar results with string samples, error envelopes with errorType). A query it was not told about gets a
/// 500, so a typo in a test shows up as an Error rather than as a quiet "no data".
/// </summary>
internal sealed class FakePrometheus : HttpMessageHandler
{
    private readonly object gate = new();
    private readonly Dictionary<string, Queue<Func<HttpResponseMessage>>> scripted = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Func<HttpResponseMessage>> answers = new(StringComparer.Ordinal);
    private readonly List<string> queries = new();
    private TaskCompletionSource? hold;
    private int holdUntil;

    public static readonly Uri Url = new("http://prometheus.test:9090/");

    /// <summary>Every request fails as a refused connection would.</summary>
    public bool Down { get; set; }

    public IReadOnlyList<string> Queries
    {
        get
        {
            lock (gate)
            {
                return queries.ToArray();
            }
        }
    }

    public string? LastPath { get; private set; }

    /// <summary>One series per entry; labels as "name=value,name=value" ("" for none).</summary>
    public void Vector(string query, params (string Labels, string Value)[] series)
    {
        var result = new JArray(series.Select(s => new JObject
        {
            ["metric"] = new JObject(ParseLabels(s.Labels).Select(l => new JProperty(l.Key, l.Value))),
            ["value"] = new JArray(1741780800.123, s.Value),
        }));
        Answer(query, () => Json(HttpStatusCode.OK, new JObject { ["status"] = "success", ["data"] = new JObject { ["resultType"] = "vector", ["result"] = result } }));
    }

    public void Scalar(string query, string value)
        => Answer(query, () => Json(HttpStatusCode.OK, new JObject { ["status"] = "success", ["data"] = new JObject { ["resultType"] = "scalar", ["result"] = new JArray(1741780800.123, value) } }));

    public void Matrix(string query)
        => Answer(query, () => Json(HttpStatusCode.OK, new JObject { ["status"] = "success", ["data"] = new JObject { ["resultType"] = "matrix", ["result"] = new JArray() } }));

    /// <summary>Prometheus' error envelope, e.g. 400 bad_data for a parse error.</summary>
    public void Error(string query, HttpStatusCode status, string errorType, string message)
        => Answer(query, () => Json(status, new JObject { ["status"] = "error", ["errorType"] = errorType, ["error"] = message }));

    public void Answer(string query, Func<HttpResponseMessage> answer)
    {
        lock (gate)
        {
            answers[query] = answer;
            scripted.Remove(query);
        }
    }

    /// <summary>Answers to give once each, in order, before falling back to the standing answer.</summary>
    public void Script(string query, params Func<HttpResponseMessage>[] once)
    {
        lock (gate)
        {
            scripted[query] = new Queue<Func<HttpResponseMessage>>(once);
        }
    }

    /// <summary>Holds every answer until this many requests have arrived: makes concurrent steppers measure at the same time.</summary>
    public void HoldUntil(int requests)
    {
        lock (gate)
        {
            holdUntil = queries.Count + requests;
            hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    public int CountOf(string query)
    {
        lock (gate)
        {
            return queries.Count(q => q == query);
        }
    }

    public static HttpResponseMessage Json(HttpStatusCode status, JObject body)
        => new(status) { Content = new StringContent(body.ToString(Newtonsoft.Json.Formatting.None), Encoding.UTF8, "application/json") };

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (Down)
        {
            throw new HttpRequestException("Connection refused (prometheus.test:9090)", new System.Net.Sockets.SocketException(111));
        }

        var uri = request.RequestUri!;
        LastPath = uri.AbsolutePath;
        var query = HttpUtility.ParseQueryString(uri.Query)["query"] ?? "";
        Task? wait = null;
        Func<HttpResponseMessage>? answer;
        lock (gate)
        {
            queries.Add(query);
            if (hold is not null)
            {
                if (queries.Count >= holdUntil)
                {
                    hold.TrySetResult();
                    hold = null;
                }
                else
                {
                    wait = hold.Task;
                }
            }

            answer = scripted.TryGetValue(query, out var queue) && queue.Count > 0 ? queue.Dequeue() : answers.GetValueOrDefault(query);
        }

        if (wait is not null)
        {
            await wait.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
        }

        if (uri.AbsolutePath != "/api/v1/query" || request.Method != HttpMethod.Get)
        {
            return new HttpResponseMessage(HttpStatusCode.NotFound) { Content = new StringContent("404 page not found") };
        }

        return answer?.Invoke() ?? Json(HttpStatusCode.InternalServerError, new JObject { ["status"] = "error", ["errorType"] = "internal", ["error"] = $"the fake has no answer for '{query}'" });
    }

    private static Dictionary<string, string> ParseLabels(string labels)
        => labels.Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('=', 2))
            .ToDictionary(p => p[0].Trim(), p => p[1].Trim());
}
