namespace PMS.Flags.Engine.Common;

/// <summary>What a command is about to do, as far as the ledger policy cares.</summary>
public enum LedgerUse
{
    /// <summary>Switches something on, raises it, advances or resumes it: held up until a ledger is chosen.</summary>
    Change,

    /// <summary>Switches off, stops or holds: it stops harm, so it is never held up, only told where its event went.</summary>
    SwitchOff,
}
