using System.Management.Automation;
using PMS.Flags.Cmdlets.Completers;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Notifications;
using PMS.Flags.Engine.Rollouts;

namespace PMS.Flags.Cmdlets.Commands;

/// <summary>
/// Renders the playbook's communication templates with real values: the pre-rollout timeline from a plan (or a
/// started rollout), the rollback and completion messages from the ledger. Sends nothing (Send-FlagNotification does).
/// </summary>
[Cmdlet(VerbsCommon.New, "FlagNotification")]
[OutputType(typeof(FlagNotification))]
public sealed class NewFlagNotificationCommand : FlagCmdletBase
{
    // Not a ValidateSet: an unknown name gets the engine's NotificationTemplateUnknown, which lists the templates.
    [Parameter(Mandatory = true, Position = 0)]
    [ArgumentCompleter(typeof(NotificationTemplateCompleter))]
    public string Template { get; set; } = "";

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("Key")]
    [ArgumentCompleter(typeof(FlagKeyCompleter))]
    [ValidateNotNullOrEmpty]
    public string? Flag { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(EnvironmentCompleter))]
    public string? Environment { get; set; }

    /// <summary>PreRollout: a rollout already started (from Start-FlagRollout -NoWait or Get-FlagRollout), whose plan gives the timeline.</summary>
    [Parameter(ValueFromPipeline = true)]
    public RolloutState? Rollout { get; set; }

    [Parameter]
    public double[] Stages { get; set; } = { 5, 25, 50, 100 };

    [Parameter]
    public TimeSpan BakeTime { get; set; } = TimeSpan.FromMinutes(30);

    [Parameter]
    public DateTimeOffset? StartTime { get; set; }

    [Parameter]
    public string? Reason { get; set; }

    [Parameter]
    public string? ApprovalTicket { get; set; }

    [Parameter]
    public string? DashboardUrl { get; set; }

    [Parameter]
    public string? Contact { get; set; }

    [Parameter]
    public string? NextSteps { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? TemplatePath { get; set; }

    [Parameter]
    [ValidateSet("Text", "Markdown")]
    public string Format { get; set; } = "Text";

    [Parameter]
    public IFlagStore? Store { get; set; }

    [Parameter]
    public ILedger? Ledger { get; set; }

    protected override void ProcessFlagRecord()
    {
        var template = NotificationTemplates.Canonical(Template);
        var text = TemplatePath is null ? NotificationTemplates.Text(template) : ReadTemplate(ResolvePath(TemplatePath));
        var extras = new NotificationFacts.Extras(DashboardUrl, Contact, NextSteps);
        if (template == NotificationTemplates.PreRollout)
        {
            var facts = Rollout is not null
                ? NotificationFacts.ForPlan(Rollout.Plan, Rollout.StartedAt, extras)
                : NotificationFacts.ForPlan(RequireFlag(), EnvironmentOrDefault(), RolloutPlan.StagesFrom(Stages), BakeTime, StartTime ?? DateTimeOffset.UtcNow, Reason, ApprovalTicket, extras);
            WriteObject(NotificationRenderer.Render(template, text, facts, Format));
            return;
        }

        var flag = Rollout?.Flag ?? RequireFlag();
        var environment = Rollout?.Environment ?? EnvironmentOrDefault();
        var ledger = ResolveLedger(Ledger);
        WriteObject(Run((_, ct) => FlagNotifier.RenderFromLedgerAsync(ledger, template, flag, environment, text, Format, extras, ct)));
    }

    private string RequireFlag() => string.IsNullOrWhiteSpace(Flag)
        ? throw new FlagsException("FlagRequired", FlagsErrorKind.InvalidArgument, "Name the flag with -Flag, or pipe a rollout in with -Rollout.")
        : Flag;

    // A message needs no store when the environment is named; only the default environment comes from one.
    private string EnvironmentOrDefault() => string.IsNullOrWhiteSpace(Environment) ? ResolveEnvironment(Environment, ResolveStore(Store)) : Environment;

    private static string ReadTemplate(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new FlagsException("NotificationTemplateUnreadable", FlagsErrorKind.ResourceUnavailable, $"The template '{path}' cannot be read: {ex.Message}", path, ex);
        }
    }
}
