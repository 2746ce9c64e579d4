namespace PMS.Flags.Engine.Flags;

public enum FlagChangeKind
{
    SetPercentage,
    TurnOn,
    TurnOff,
}
