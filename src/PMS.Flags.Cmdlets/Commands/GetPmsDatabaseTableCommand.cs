using System.Management.Automation;
using PMS.Flags.Cmdlets.Infrastructure;
using PMS.Flags.Engine.Migrations;

namespace PMS.Flags.Cmdlets.Commands;

[Cmdlet(VerbsCommon.Get, "PmsDatabaseTable")]
[OutputType(typeof(DatabaseTable))]
public sealed class GetPmsDatabaseTableCommand : DatabaseCommandBase
{
    [Parameter(Position = 0)]
    [SupportsWildcards]
    public string? Name { get; set; }

    protected override void ProcessFlagRecord()
    {
        var database = new PostgresDatabase(ResolveDatabase());
        var pattern = string.IsNullOrEmpty(Name) ? null : new WildcardPattern(Name, WildcardOptions.IgnoreCase);
        foreach (var table in Run((_, ct) => database.ListTablesAsync(ct)))
        {
            if (pattern is null || pattern.IsMatch(table.Name))
            {
                WriteObject(table);
            }
        }
    }
}
