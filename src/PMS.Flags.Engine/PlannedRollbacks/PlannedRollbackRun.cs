using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Ledger;

namespace PMS.Flags.Engine.PlannedRollbacks;

/// <summary>
/// The latest run of a planned rollback, folded from its stream: open until a completed event, with the target
/// revision(s) it resolved when it started and the steps that already succeeded (so a rerun does not repeat them).
/// </summary>
internal sealed class PlannedRollbackRun
{
    private PlannedRollbackRun(string? runId, IReadOnlyList<string> target, IReadOnlyDictionary<string, AuditEvent> done, bool open)
    {
        RunId = runId;
        Target = target;
        Done = done;
        Open = open;
    }

    public string? RunId { get; }

    public IReadOnlyList<string> Target { get; }

    /// <summary>Succeeded steps of the open run, by step name, with their events.</summary>
    public IReadOnlyDictionary<string, AuditEvent> Done { get; }

    public bool Open { get; }

    /// <summary>When the flag went off (the FlagOff step's own clock), for a stabilization that survives a restart.</summary>
    public DateTimeOffset? FlagOffAt => Done.TryGetValue(PlannedRollbackStep.FlagOff, out var e) && Details(e)["at"] is JValue at ? at.ToObject<DateTimeOffset>() : null;

    public static PlannedRollbackRun Fold(IEnumerable<AuditEvent> events)
    {
        var ordered = events.OrderBy(e => e.Sequence).ToList();
        var start = ordered.FindLastIndex(e => e.EventType == PlannedRollbackEventTypes.Started);
        if (start < 0)
        {
            return new PlannedRollbackRun(null, Array.Empty<string>(), new Dictionary<string, AuditEvent>(), false);
        }

        var started = Details(ordered[start]);
        var runId = (string?)started["run_id"];
        var run = ordered.Skip(start + 1).Where(e => (string?)Details(e)["run_id"] == runId).ToList();
        var done = new Dictionary<string, AuditEvent>(StringComparer.Ordinal);
        foreach (var e in run.Where(e => e.EventType == PlannedRollbackEventTypes.Step && e.Outcome == "succeeded"))
        {
            done[(string?)Details(e)["step"] ?? ""] = e;
        }

        var target = (started["target_revisions"] as JArray ?? new JArray()).Select(t => (string)t!).ToArray();
        return new PlannedRollbackRun(runId, target, done, !run.Any(e => e.EventType == PlannedRollbackEventTypes.Completed));
    }

    public static JObject Details(AuditEvent e)
    {
        try
        {
            return e.Details is null ? new JObject() : JObject.Parse(e.Details);
        }
        catch (Newtonsoft.Json.JsonException)
        {
            return new JObject();
        }
    }
}
