using System.Management.Automation;
using System.Text.RegularExpressions;
using Newtonsoft.Json.Linq;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Kubernetes;

namespace PMS.Flags.Cmdlets.Commands;

/// <summary>
/// Logs of every pod of the deployment, merged by time. A JSON object line becomes an object with its own fields plus
/// Pod and LogTime (type name PMS.Flags.LogRecord); any other line an object with Pod, LogTime and Message.
/// </summary>
[Cmdlet(VerbsCommon.Get, "PmsLog")]
[OutputType(typeof(PSObject))]
public sealed class GetPmsLogCommand : KubernetesCmdletBase
{
    [Parameter]
    [ValidateRange(0, 100000)]
    public int Tail { get; set; } = 100;

    [Parameter]
    public TimeSpan? Since { get; set; }

    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public string? Match { get; set; }

    protected override void ProcessFlagRecord()
    {
        Regex? pattern = null;
        if (Match is not null)
        {
            try
            {
                pattern = new Regex(Match, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
            }
            catch (ArgumentException ex)
            {
                throw new FlagsException(KubernetesErrorIds.LogPatternInvalid, FlagsErrorKind.InvalidArgument, $"-Match '{Match}' is not a valid regular expression: {ex.Message}", Match, ex);
            }
        }

        var lines = Run(async (log, ct) =>
        {
            using var operations = ConnectDeployment(log);
            return await operations.LogsAsync(Tail, Since, pattern, ct).ConfigureAwait(false);
        });
        foreach (var line in lines)
        {
            WriteObject(ToRecord(line));
        }
    }

    private static PSObject ToRecord(PodLogLine line)
    {
        var record = new PSObject();
        record.TypeNames.Insert(0, line.Json is null ? "PMS.Flags.LogLine" : "PMS.Flags.LogRecord");
        record.Properties.Add(new PSNoteProperty("Pod", line.Pod));
        record.Properties.Add(new PSNoteProperty("LogTime", line.Time));
        if (line.Json is null)
        {
            record.Properties.Add(new PSNoteProperty("Message", line.Text));
            return record;
        }

        foreach (var property in line.Json.Properties())
        {
            if (record.Properties[property.Name] is null)
            {
                record.Properties.Add(new PSNoteProperty(property.Name, ToValue(property.Value)));
            }
        }

        record.Properties.Add(new PSNoteProperty("Line", line.Text));
        return record;
    }

    private static object? ToValue(JToken token) => token switch
    {
        JObject o => o.Properties().Aggregate(new PSObject(), (ps, p) =>
        {
            ps.Properties.Add(new PSNoteProperty(p.Name, ToValue(p.Value)));
            return ps;
        }),
        JArray a => a.Select(ToValue).ToArray(),
        JValue v => v.Value,
        _ => token.ToString(),
    };
}
