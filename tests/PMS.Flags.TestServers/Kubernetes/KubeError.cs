using Newtonsoft.Json.Linq;

namespace PMS.Flags.TestServers.Kubernetes;

/// <summary>A refusal the stand-in answers with a Kubernetes <c>Status</c> body (kind Status, status Failure, reason, code).</summary>
public sealed class KubeError : Exception
{
    public KubeError(int code, string reason, string message, JObject? details = null)
        : base(message)
    {
        Code = code;
        Reason = reason;
        Details = details;
    }

    public int Code { get; }

    public string Reason { get; }

    public JObject? Details { get; }

    public static KubeError NotFound(string resource, string name, string? group = null)
        => new(404, "NotFound", $"{Qualified(resource, group)} \"{name}\" not found", Detail(resource, name, group));

    public static KubeError Conflict(string resource, string name, string? group = null)
        => new(409, "Conflict", $"Operation cannot be fulfilled on {Qualified(resource, group)} \"{name}\": the object has been modified; please apply your changes to the latest version and try again", Detail(resource, name, group));

    public static KubeError BadRequest(string message) => new(400, "BadRequest", message);

    public static KubeError Invalid(string kind, string name, string message) => new(422, "Invalid", $"{kind} \"{name}\" is invalid: {message}", new JObject { ["name"] = name, ["kind"] = kind });

    public static KubeError Unauthorized() => new(401, "Unauthorized", "Unauthorized");

    public static KubeError UnsupportedMediaType(string contentType) => new(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml; got '{contentType}'");

    public JObject ToStatus() => new()
    {
        ["kind"] = "Status",
        ["apiVersion"] = "v1",
        ["metadata"] = new JObject(),
        ["status"] = "Failure",
        ["message"] = Message,
        ["reason"] = Reason,
        ["details"] = Details ?? new JObject(),
        ["code"] = Code,
    };

    private static string Qualified(string resource, string? group) => group is null ? resource : $"{resource}.{group}";

    private static JObject Detail(string resource, string name, string? group)
    {
        var d = new JObject { ["name"] = name, ["kind"] = resource };
        if (group is not null)
        {
            d["group"] = group;
        }

        return d;
    }
}
