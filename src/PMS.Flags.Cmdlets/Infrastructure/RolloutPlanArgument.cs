using System.Collections;
using System.Management.Automation;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Guardrails;
using PMS.Flags.Engine.Readiness;
using PMS.Flags.Engine.Rollouts;

namespace PMS.Flags.Cmdlets.Infrastructure;

/// <summary>
/// -Plan of the checklist cmdlets: a hashtable (or object) with Start-FlagRollout's own parameter names — Stages,
/// BakeTime, Guardrail — and its defaults for those left out, so the one hashtable that is approved can be splatted
/// into Start-FlagRollout. Other keys (Reason, ApprovalTicket, ...) are not part of what is approved and are ignored.
/// </summary>
internal static class RolloutPlanArgument
{
    public static PlanFingerprint? ToFingerprint(object? plan, string flag)
    {
        if (plan is null)
        {
            return null;
        }

        var value = plan is PSObject wrapped ? wrapped.BaseObject : plan;
        try
        {
            var stages = RolloutPlan.StagesFrom(LanguagePrimitives.ConvertTo<double[]>(Member(value, "Stages") ?? new[] { 5d, 25, 50, 100 }));
            var bakeTime = LanguagePrimitives.ConvertTo<TimeSpan>(Member(value, "BakeTime") ?? TimeSpan.FromMinutes(30));
            var guardrails = LanguagePrimitives.ConvertTo<GuardrailDefinition[]>(Member(value, "Guardrail") ?? Member(value, "Guardrails") ?? Array.Empty<GuardrailDefinition>());
            var check = new RolloutPlan { RolloutId = "ro-checklist", Flag = flag, Environment = "checklist", Stages = stages, BakeTime = bakeTime, Guardrails = guardrails, Reason = "checklist", User = "checklist" };
            check.Validate();
            return PlanFingerprint.Of(check);
        }
        catch (PSInvalidCastException ex)
        {
            throw new FlagsException("ChecklistPlanInvalid", FlagsErrorKind.InvalidArgument, $"-Plan must hold Stages (percentages), BakeTime (a TimeSpan) and Guardrail (New-FlagGuardrail objects) as Start-FlagRollout takes them: {ex.Message}", plan, ex);
        }
    }

    private static object? Member(object value, string name)
    {
        if (value is IDictionary dictionary)
        {
            foreach (DictionaryEntry entry in dictionary)
            {
                if (string.Equals(entry.Key?.ToString(), name, StringComparison.OrdinalIgnoreCase))
                {
                    return entry.Value is PSObject p ? p.BaseObject : entry.Value;
                }
            }

            return null;
        }

        return PSObject.AsPSObject(value).Properties[name]?.Value;
    }
}
