using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Flags;

namespace PMS.Flags.Engine.Tests.Support;

public static class Documents
{
    /// <summary>A seed-shaped document with a partial rollout carrying extra keys, and a string that looks like JSON.</summary>
    public const string Seed =
        "{\n" +
        "  \"development\": {\n" +
        "    \"new_ui\": true,\n" +
        "    \"beta_search\": { \"enabled\": true, \"rollout_percentage\": 50, \"owner\": \"team-a\" }\n" +
        "  },\n" +
        "  \"staging\": {\n" +
        "    \"new_ui\": false,\n" +
        "    \"beta_search\": false\n" +
        "  },\n" +
        "  \"production\": {\n" +
        "    \"new_ui\": false,\n" +
        "    \"beta_search\": {\n" +
        "      \"owner\": \"team-search {not: \\\"json\\\"}\",\n" +
        "      \"enabled\": true,\n" +
        "      \"rollout_percentage\": 10,\n" +
        "      \"description\": \"search v2, see [PMS-12]\"\n" +
        "    },\n" +
        "    \"zeta\": true\n" +
        "  }\n" +
        "}\n";

    public static JObject Parse(string path) => JObject.Parse(File.ReadAllText(path));

    public static FlagChange Set(string flag, string environment, decimal percentage) => new(flag, environment, FlagChangeKind.SetPercentage, percentage);

    public static FlagChange Off(string flag, string environment) => new(flag, environment, FlagChangeKind.TurnOff);

    public static FlagChange On(string flag, string environment) => new(flag, environment, FlagChangeKind.TurnOn);

    public static string[] TempFiles(string directory) => Directory.GetFiles(directory, ".*.tmp");
}
