using System.Text.RegularExpressions;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Readiness;

/// <summary>
/// "Monitoring alerts configured", checked rather than believed: the evidence is an alert-rule file that holds at
/// least one alert under <c>groups:</c>, or a Prometheus whose rules endpoint (<c>/api/v1/rules</c>) has at least one
/// alerting rule loaded. Checked when the item is approved and again every time readiness is evaluated.
/// </summary>
public sealed class AlertRuleEvidence
{
    private static readonly Regex GroupsLine = new(@"^\s*groups\s*:", RegexOptions.Multiline | RegexOptions.CultureInvariant);
    private static readonly Regex AlertLine = new(@"^\s*(?:-\s*)?alert\s*:\s*[""']?([A-Za-z_:][A-Za-z0-9_:]*)", RegexOptions.Multiline | RegexOptions.CultureInvariant);
    private readonly HttpClient http;

    public AlertRuleEvidence(HttpClient? http = null)
    {
        this.http = http ?? new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
    }

    /// <summary>Refuses evidence that is neither an absolute http(s) URI without credentials nor a rooted path; changes nothing.</summary>
    public static void ValidateShape(string evidence)
    {
        if (Uri.TryCreate(evidence, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
        {
            if (!string.IsNullOrEmpty(uri.UserInfo))
            {
                throw new FlagsException("ChecklistEvidenceInvalid", FlagsErrorKind.InvalidArgument, "The Prometheus URI carries credentials; they would be stored in the ledger. Give a URI without user info.", "alerts-configured");
            }

            return;
        }

        if (!Path.IsPathRooted(evidence))
        {
            throw new FlagsException("ChecklistEvidenceInvalid", FlagsErrorKind.InvalidArgument, $"The evidence for alert rules must be an alert-rule file or a Prometheus URI (http or https); got '{evidence}'.", "alerts-configured");
        }
    }

    /// <summary>Whether the evidence holds alert rules now, and a sentence naming them or saying what is wrong.</summary>
    public async Task<(bool Holds, string Detail)> CheckAsync(string evidence, CancellationToken cancellationToken)
    {
        if (Uri.TryCreate(evidence, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
        {
            return await CheckEndpointAsync(uri, cancellationToken).ConfigureAwait(false);
        }

        return CheckFile(evidence);
    }

    private static (bool, string) CheckFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            return (false, $"the alert-rule file '{path}' cannot be read ({ex.Message})");
        }

        var alerts = AlertLine.Matches(text).Select(m => m.Groups[1].Value).Distinct().ToArray();
        if (!GroupsLine.IsMatch(text) || alerts.Length == 0)
        {
            return (false, $"the file '{path}' holds no Prometheus alert rules (no 'groups:' with an 'alert:')");
        }

        return (true, $"alert rules in '{path}': {string.Join(", ", alerts)}");
    }

    private async Task<(bool, string)> CheckEndpointAsync(Uri uri, CancellationToken cancellationToken)
    {
        var rules = uri.AbsolutePath.TrimEnd('/').EndsWith("/api/v1/rules", StringComparison.Ordinal) ? uri : new Uri(uri, uri.AbsolutePath.TrimEnd('/') + "/api/v1/rules");
        try
        {
            using var response = await http.GetAsync(rules, cancellationToken).ConfigureAwait(false);
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return (false, $"the rules endpoint {rules} answered {(int)response.StatusCode}");
            }

            var alerts = (JObject.Parse(body)["data"]?["groups"] as JArray ?? new JArray())
                .SelectMany(g => g["rules"] as JArray ?? new JArray())
                .Where(r => (string?)r["type"] == "alerting")
                .Select(r => (string?)r["name"])
                .Distinct()
                .ToArray();
            return alerts.Length == 0
                ? (false, $"the rules endpoint {rules} has no alerting rules loaded")
                : (true, $"alerting rules loaded in {rules}: {string.Join(", ", alerts)}");
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException or InvalidCastException && !cancellationToken.IsCancellationRequested)
        {
            return (false, $"the rules endpoint {rules} could not be read ({ex.Message})");
        }
    }
}
