namespace PMS.Flags.Engine.Guardrails;

/// <summary>
/// When the current rollout stage began, for guardrails that judge "since the stage began" (the deployment guardrail's
/// container restarts). Flows with the async call; unset, such guardrails look back over <see cref="DefaultLookBack"/>.
/// </summary>
public static class GuardrailStageClock
{
    private static readonly AsyncLocal<DateTimeOffset?> Current = new();

    public static readonly TimeSpan DefaultLookBack = TimeSpan.FromMinutes(15);

    public static DateTimeOffset? StageStartedAt
    {
        get => Current.Value;
        set => Current.Value = value;
    }
}
