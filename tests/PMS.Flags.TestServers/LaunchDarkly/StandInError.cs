namespace PMS.Flags.TestServers.LaunchDarkly;

/// <summary>A refusal the stand-in answers with LaunchDarkly's error body: <c>{"code", "message", "id"}</c>.</summary>
public sealed class StandInError : Exception
{
    public StandInError(int status, string code, string message)
        : base(message)
    {
        Status = status;
        Code = code;
    }

    public int Status { get; }

    public string Code { get; }

    public static StandInError Invalid(string message) => new(400, "invalid_request", message);

    public static StandInError NotFound(string message) => new(404, "not_found", message);
}
