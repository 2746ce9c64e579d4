namespace PMS.Flags.Engine.Common;

/// <summary>
/// Who is acting: an explicit override, else the CI system's requester, else the OS user.
/// CI variables come first because on a build agent the OS user is a service account that says nothing to an auditor.
/// </summary>
public static class UserIdentity
{
    public static string Resolve(string? explicitUser, Func<string, string?>? environment = null)
    {
        if (!string.IsNullOrWhiteSpace(explicitUser))
        {
            return explicitUser.Trim();
        }

        environment ??= Environment.GetEnvironmentVariable;
        foreach (var name in new[] { "GITHUB_ACTOR", "BUILD_REQUESTEDFOREMAIL" })
        {
            var value = environment(name);
            if (!string.IsNullOrWhiteSpace(value))
            {
                return value.Trim();
            }
        }

        return Environment.UserName;
    }
}
