namespace PMS.Flags.Engine.Migrations;

/// <summary>What running a revision's downgrade() would do to data.</summary>
public enum MigrationClassification
{
    /// <summary>The downgrade drops no table or column and runs no DROP/DELETE/TRUNCATE.</summary>
    Reversible,

    /// <summary>The downgrade drops a table or column, or runs raw DROP/DELETE/TRUNCATE SQL: data is lost.</summary>
    Destructive,

    /// <summary>The downgrade cannot be judged without running Python (helpers, SQL built at run time, no downgrade()).</summary>
    Unknown,
}
