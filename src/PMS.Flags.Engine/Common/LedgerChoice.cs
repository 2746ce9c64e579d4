namespace PMS.Flags.Engine.Common;

/// <summary>How the ledger a command records to was chosen: by someone (the first three) or by nobody (the default file).</summary>
public enum LedgerChoice
{
    /// <summary>-Ledger on the command.</summary>
    Parameter,

    /// <summary>Connect-FlagLedger in this session.</summary>
    Connected,

    /// <summary>$PMS_FLAGS_LEDGER.</summary>
    EnvironmentVariable,

    /// <summary>Nobody chose: the per-user file under the state folder, which an ephemeral runner deletes with itself.</summary>
    Default,
}
