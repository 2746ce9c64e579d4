namespace PMS.Flags.Engine.Migrations;

public enum MigrationAction
{
    Upgrade,
    Downgrade,
    Stamp,
}
