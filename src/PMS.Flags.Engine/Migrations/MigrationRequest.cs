namespace PMS.Flags.Engine.Migrations;

/// <summary>Who asks for a schema change and why; recorded with it.</summary>
public sealed class MigrationRequest
{
    public required string Reason { get; init; }

    public required string User { get; init; }

    public string? Environment { get; init; }

    public string? ApprovalTicket { get; init; }

    /// <summary>Consent to cross Destructive or Unknown downgrades.</summary>
    public bool AllowDataLoss { get; init; }
}
