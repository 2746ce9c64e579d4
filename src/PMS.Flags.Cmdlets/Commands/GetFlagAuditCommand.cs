using System.Management.Automation;
using PMS.Flags.Cmdlets.Completers;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Ledger;

namespace PMS.Flags.Cmdlets.Commands;

[Cmdlet(VerbsCommon.Get, "FlagAudit")]
[OutputType(typeof(AuditEvent))]
public sealed class GetFlagAuditCommand : FlagCmdletBase
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Key")]
    [ArgumentCompleter(typeof(FlagKeyCompleter))]
    public string? Flag { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(EnvironmentCompleter))]
    public string? Environment { get; set; }

    [Parameter]
    [ArgumentCompleter(typeof(EventTypeCompleter))]
    public string[]? EventType { get; set; }

    [Parameter]
    [ArgumentCompleter(typeof(AuditUserCompleter))]
    public string? User { get; set; }

    [Parameter]
    public DateTimeOffset? Since { get; set; }

    [Parameter]
    public DateTimeOffset? Until { get; set; }

    /// <summary>The oldest N matching events, oldest first.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int? First { get; set; }

    /// <summary>The newest N matching events, newest first ("who changed it last").</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int? Newest { get; set; }

    /// <summary>
    /// Passes over the first N events of the page: the oldest N, or with -Newest the newest N (the next page back).
    /// An offset for interactive use; a script walking the whole trail pages with -AfterSequence instead.
    /// </summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int? Skip { get; set; }

    /// <summary>Only events with a greater sequence: the keyset cursor of a page walk (the last Sequence of the previous page).</summary>
    [Parameter]
    [ValidateRange(0, long.MaxValue)]
    public long? AfterSequence { get; set; }

    [Parameter]
    public ILedger? Ledger { get; set; }

    /// <summary>Also the events spooled for this ledger (the change happened, the ledger has not recorded it yet), marked Pending, after the ledger's.</summary>
    [Parameter]
    public SwitchParameter IncludePending { get; set; }

    protected override void ProcessFlagRecord()
    {
        if (First is not null && Newest is not null)
        {
            throw new FlagsException("AuditRangeConflict", FlagsErrorKind.InvalidArgument, "-First (the oldest events) and -Newest (the newest events) cannot be used together.");
        }

        if (IncludePending && (Skip is not null || AfterSequence is not null))
        {
            // Spooled events have no sequence yet, so no page cursor or offset can address them stably.
            throw new FlagsException("AuditPagingConflict", FlagsErrorKind.InvalidArgument, "-IncludePending cannot be used with -Skip or -AfterSequence: spooled events have no sequence yet, so they cannot be paged.");
        }

        foreach (var eventType in EventType ?? Array.Empty<string>())
        {
            if (!AuditEventTypes.IsKnown(eventType))
            {
                // A typo would otherwise match nothing and read as a quiet trail.
                throw new FlagsException("EventTypeUnknown", FlagsErrorKind.InvalidArgument, $"'{eventType}' is not an audit event type. Known types: {string.Join(", ", AuditEventTypes.Known)}.", eventType);
            }
        }

        var ledger = ResolveLedger(Ledger);
        var query = new AuditQuery
        {
            Flag = Flag,
            Environment = Environment,
            EventTypes = EventType,
            User = User,
            Since = Since,
            Until = Until,
            AfterSequence = AfterSequence,
            Skip = Skip,
            First = First,

            // With the spool the window is taken below, over the ledger's events and the pending ones after them.
            Newest = IncludePending ? null : Newest,
        };
        WriteVerbose($"Reading audit events from {ledger.Name}.");
        var events = ledger.Read(query, CancellationToken);
        if (IncludePending)
        {
            var spooled = new AuditSpool(StatePaths.SpoolDirectory()).Peek(ledger).Where(query.Matches).Select(e => e.AsPending());
            events = events.Concat(First is { } first ? spooled.Take(first) : spooled);
            if (First is { } limit)
            {
                events = events.Take(limit);
            }
        }
        if (IncludePending && Newest is { } newest)
        {
            // The ledger is oldest first; keep a window of the last N and hand them out newest first.
            var window = new Queue<AuditEvent>(Math.Min(newest, 1024));
            foreach (var auditEvent in events)
            {
                if (window.Count == newest)
                {
                    window.Dequeue();
                }

                window.Enqueue(auditEvent);
            }

            events = window.Reverse();
        }

        foreach (var auditEvent in events)
        {
            WriteObject(auditEvent);
        }
    }
}
