using System.Management.Automation;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Migrations;

namespace PMS.Flags.Cmdlets.Commands;

[Cmdlet(VerbsCommon.Get, "PmsMigration")]
[OutputType(typeof(MigrationStatus))]
public sealed class GetPmsMigrationCommand : DatabaseCommandBase
{
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string ScriptLocation { get; set; } = "";

    protected override void ProcessFlagRecord()
    {
        var service = new MigrationService(ResolveDatabase(), ResolvePath(ScriptLocation));
        WriteVerbose($"Read {service.Graph.Count} revision(s) from {service.Graph.Location}.");
        var status = Run((_, ct) => service.GetStatusAsync(ct));
        if (status.UnknownCurrent.Count > 0)
        {
            WriteWarning($"{status.Database} records {string.Join(", ", status.UnknownCurrent)}, which no script in {status.ScriptLocation} defines.");
        }

        WriteObject(status);
    }
}
