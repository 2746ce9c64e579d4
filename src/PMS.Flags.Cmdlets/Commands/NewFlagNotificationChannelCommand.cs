using System.Management.Automation;
using System.Security;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Notifications;

namespace PMS.Flags.Cmdlets.Commands;

/// <summary>A place to send notifications: Slack, Teams, a generic webhook, or Grafana annotations. Its URI and token are secrets and never shown.</summary>
[Cmdlet(VerbsCommon.New, "FlagNotificationChannel", DefaultParameterSetName = WebhookSet)]
[OutputType(typeof(NotificationChannel))]
public sealed class NewFlagNotificationChannelCommand : FlagCmdletBase
{
    private const string SlackSet = "Slack";
    private const string TeamsSet = "Teams";
    private const string WebhookSet = "Webhook";
    private const string GrafanaSet = "Grafana";

    [Parameter(Mandatory = true, ParameterSetName = SlackSet)]
    public SwitchParameter Slack { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = TeamsSet)]
    public SwitchParameter Teams { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = WebhookSet)]
    public SwitchParameter Webhook { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = GrafanaSet)]
    public SwitchParameter Grafana { get; set; }

    [Parameter(Mandatory = true, Position = 0)]
    public Uri? Uri { get; set; }

    // A SecureString, so the token is not in the session history as text.
    [Parameter(Mandatory = true, ParameterSetName = GrafanaSet)]
    public SecureString? Token { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    [Parameter]
    [ValidateRange(1, 60)]
    public int TimeoutSec { get; set; } = 5;

    protected override void ProcessFlagRecord()
    {
        var channel = new NotificationChannel(ParameterSetName, Uri!, Token, Name, TimeSpan.FromSeconds(TimeoutSec));
        WriteVerbose($"Notification channel {channel} (timeout {TimeoutSec} s).");
        WriteObject(channel);
    }
}
