using System.Management.Automation;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Ledger;
using PMS.Flags.Engine.Notifications;

namespace PMS.Flags.Cmdlets.Commands;

/// <summary>Posts a rendered notification to channels, once each within their timeout, and records every outcome in the ledger.</summary>
[Cmdlet(VerbsCommunications.Send, "FlagNotification", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(NotificationDelivery))]
public sealed class SendFlagNotificationCommand : FlagCmdletBase
{
    [Parameter(Mandatory = true, Position = 0)]
    public NotificationChannel[] Channel { get; set; } = Array.Empty<NotificationChannel>();

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public FlagNotification? Notification { get; set; }

    [Parameter]
    [ValidateNotBlank]
    public string? User { get; set; }

    [Parameter]
    public ILedger? Ledger { get; set; }

    protected override void ProcessFlagRecord()
    {
        var notification = Notification!;
        if (!ShouldProcess(string.Join(", ", Channel.Select(c => c.ToString())), $"Send '{notification.Subject}'"))
        {
            return;
        }

        var ledger = ResolveLedger(Ledger);
        var user = UserIdentity.Resolve(User);
        var deliveries = Run(async (log, ct) =>
        {
            using var sender = new NotificationSender();
            return await sender.SendAsync(Channel, notification, AuditTrailFor(ledger, log.Engine), user, null, ct).ConfigureAwait(false);
        });
        foreach (var delivery in deliveries)
        {
            WriteObject(delivery);
            if (!delivery.Succeeded)
            {
                WriteError(ToErrorRecord(new FlagsException("NotificationFailed", FlagsErrorKind.ConnectionError, $"'{notification.Subject}' was not sent to {delivery.Channel} ({delivery.Kind}, {delivery.Endpoint}): {delivery.Error}. Recorded as {NotificationEventTypes.Failed}.", delivery.Channel)));
            }
        }
    }
}
