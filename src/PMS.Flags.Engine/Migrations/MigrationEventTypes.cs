namespace PMS.Flags.Engine.Migrations;

/// <summary>The ledger event types of schema changes.</summary>
public static class MigrationEventTypes
{
    public const string Applied = "migration_applied";
    public const string Reverted = "migration_reverted";
    public const string Stamped = "migration_stamped";

    public static string For(MigrationAction action) => action switch
    {
        MigrationAction.Upgrade => Applied,
        MigrationAction.Downgrade => Reverted,
        _ => Stamped,
    };
}
