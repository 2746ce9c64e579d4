using System.Management.Automation;
using PMS.Flags.Engine.Migrations;

namespace PMS.Flags.Cmdlets.Infrastructure;

/// <summary>
/// The connection every database cmdlet takes: -ConnectionString (an Npgsql string or a postgresql:// URL), else the
/// playbook's DATABASE_URL. Only these cmdlets touch the engine's Npgsql-backed types, so Npgsql loads on first use.
/// </summary>
public abstract class DatabaseCommandBase : FlagCmdletBase
{
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ConnectionString { get; set; }

    /// <summary>Seconds to wait for the connection.</summary>
    [Parameter]
    [ValidateRange(1, 600)]
    public int TimeoutSec { get; set; } = 15;

    private protected DatabaseTarget ResolveDatabase()
    {
        var text = ConnectionString;
        if (string.IsNullOrEmpty(text))
        {
            text = System.Environment.GetEnvironmentVariable("DATABASE_URL");
            if (!string.IsNullOrEmpty(text))
            {
                WriteVerbose("No -ConnectionString: using DATABASE_URL.");
            }
        }

        var target = DatabaseTarget.Parse(text, TimeSpan.FromSeconds(TimeoutSec));
        WriteVerbose($"Database {target.Name}.");
        return target;
    }
}
