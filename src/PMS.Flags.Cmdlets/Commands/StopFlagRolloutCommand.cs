using System.Management.Automation;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Rollouts;

namespace PMS.Flags.Cmdlets.Commands;

/// <summary>Aborts a rollout: the flag goes back off through the emergency-rollback path, and the abort is recorded.</summary>
[Cmdlet(VerbsLifecycle.Stop, "FlagRollout", DefaultParameterSetName = ByIdSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(RolloutStepResult))]
public sealed class StopFlagRolloutCommand : RolloutCommandBase
{
    [Parameter(Mandatory = true)]
    [AllowEmptyString]
    public string Reason { get; set; } = "";

    [Parameter]
    public string? ApprovalTicket { get; set; }

    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessFlagRecord()
    {
        var environment = EnvironmentForFlagSet();
        var target = DescribeTarget(environment);
        if (WhatIfRequested || !Force)
        {
            if (!ShouldProcess(target, "Abort the rollout and switch the flag off"))
            {
                return;
            }
        }

        var actor = Actor(Reason, ApprovalTicket);
        var result = WithEngine(async (engine, _, ct) =>
        {
            var id = await ResolveRolloutIdAsync(engine, ParameterSetName, RolloutId, Flag, environment, ct).ConfigureAwait(false);
            return await engine.StopAsync(id, actor, ct).ConfigureAwait(false);
        });
        var reportFailure = ReportStep(result);
        WriteObject(result);
        if (reportFailure is not null)
        {
            WriteWarning(reportFailure);
        }
    }
}
