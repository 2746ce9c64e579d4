namespace PMS.Flags.Engine.Ledger;

/// <summary>What a report's timeline needs of one event, small enough to sort in runs on disk.</summary>
internal readonly record struct AuditTimelinePoint(long Ticks, long Sequence, long Order, decimal? RolloutPercentage, bool? NewState, string Color, string EventType, string? UserId, string? Reason)
{
    private static readonly string[] Colors = { AuditHtmlReport.ChangeColor, AuditHtmlReport.ApprovalColor, AuditHtmlReport.BreachColor, AuditHtmlReport.RollbackColor };

    public static AuditTimelinePoint From(AuditEvent e, long order)
        => new(e.Timestamp.UtcTicks, e.Sequence, order, e.RolloutPercentage, e.NewState, AuditHtmlReport.MarkerColor(e), e.EventType, e.UserId, e.Reason);

    /// <summary>The report's order: by time, then sequence, then as the events came (a stable sort).</summary>
    public static int Compare(in AuditTimelinePoint a, in AuditTimelinePoint b)
    {
        var byTime = a.Ticks.CompareTo(b.Ticks);
        if (byTime != 0)
        {
            return byTime;
        }

        var bySequence = a.Sequence.CompareTo(b.Sequence);
        return bySequence != 0 ? bySequence : a.Order.CompareTo(b.Order);
    }

    public decimal ExposureAfter(decimal before)
        => RolloutPercentage ?? (NewState == false ? 0 : NewState == true && before == 0 ? 100 : before);

    public void WriteTo(BinaryWriter writer)
    {
        writer.Write(Ticks);
        writer.Write(Sequence);
        writer.Write(Order);
        writer.Write(RolloutPercentage.HasValue);
        writer.Write(RolloutPercentage ?? 0m);
        writer.Write((byte)(NewState is null ? 0 : NewState.Value ? 2 : 1));
        writer.Write((byte)Array.IndexOf(Colors, Color));
        writer.Write(EventType);
        writer.Write(UserId is not null);
        writer.Write(UserId ?? "");
        writer.Write(Reason is not null);
        writer.Write(Reason ?? "");
    }

    public static AuditTimelinePoint ReadFrom(BinaryReader reader)
    {
        var ticks = reader.ReadInt64();
        var sequence = reader.ReadInt64();
        var order = reader.ReadInt64();
        var hasPercentage = reader.ReadBoolean();
        var percentage = reader.ReadDecimal();
        var state = reader.ReadByte();
        var color = Colors[reader.ReadByte()];
        var eventType = reader.ReadString();
        var hasUser = reader.ReadBoolean();
        var user = reader.ReadString();
        var hasReason = reader.ReadBoolean();
        var reason = reader.ReadString();
        return new(ticks, sequence, order, hasPercentage ? percentage : null, state == 0 ? null : state == 2, color, eventType, hasUser ? user : null, hasReason ? reason : null);
    }
}
