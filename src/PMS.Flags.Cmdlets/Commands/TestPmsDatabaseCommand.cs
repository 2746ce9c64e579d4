using System.Management.Automation;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Migrations;

namespace PMS.Flags.Cmdlets.Commands;

[Cmdlet(VerbsDiagnostic.Test, "PmsDatabase")]
[OutputType(typeof(DatabaseProbe))]
public sealed class TestPmsDatabaseCommand : DatabaseCommandBase
{
    protected override void ProcessFlagRecord()
    {
        var database = new PostgresDatabase(ResolveDatabase());
        WriteObject(Run((_, ct) => database.ProbeAsync(ct)));
    }
}
