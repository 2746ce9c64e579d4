namespace PMS.Flags.Engine.Migrations;

/// <summary>
/// The stable ErrorIds of the migration and database commands (<see cref="Common.FlagsException.ErrorId"/>). Kept in one
/// class so they can move into a project-wide catalogue; scripts and tests match on these, the messages may change.
/// </summary>
public static class MigrationErrorIds
{
    /// <summary>-ScriptLocation names no file or folder.</summary>
    public const string ScriptLocationNotFound = "MigrationScriptLocationNotFound";

    /// <summary>The scripts folder exists but holds no revision script (no .py file assigning <c>revision</c>).</summary>
    public const string NoRevisions = "MigrationScriptsWithoutRevisions";

    /// <summary>A script's revision header cannot be read without Python (not literals), or two scripts claim one id.</summary>
    public const string ScriptUnreadable = "MigrationScriptUnreadable";

    /// <summary>A down_revision names a revision no script defines.</summary>
    public const string BrokenGraph = "MigrationGraphBroken";

    /// <summary>Running alembic needs alembic.ini, and none was found at or above the scripts.</summary>
    public const string AlembicIniNotFound = "AlembicIniNotFound";

    /// <summary>The alembic executable does not exist.</summary>
    public const string AlembicNotFound = "AlembicNotFound";

    /// <summary>The revision given matches no script, branch label or keyword.</summary>
    public const string RevisionNotFound = "MigrationRevisionNotFound";

    /// <summary>A revision prefix matches several revisions, "head" with several heads, or a relative step (-1) from several current revisions or across a merge.</summary>
    public const string AmbiguousRevision = "MigrationRevisionAmbiguous";

    /// <summary>The database records a revision that no script defines.</summary>
    public const string CurrentRevisionUnknown = "MigrationCurrentRevisionUnknown";

    /// <summary>The downgrade target is not below the current revision(s), or the upgrade target not above them.</summary>
    public const string InvalidDirection = "MigrationInvalidDirection";

    /// <summary>The downgrade crosses a Destructive or Unknown revision and -AllowDataLoss was not given.</summary>
    public const string DataLossRefused = "MigrationDataLossRefused";

    /// <summary>The database moved between planning and running (someone else migrated it); nothing was run.</summary>
    public const string CurrentChanged = "MigrationCurrentChanged";

    /// <summary>alembic exited with an error; the message says at which revision the database was left.</summary>
    public const string AlembicFailed = "AlembicFailed";

    /// <summary>-Via Pod: the deployment has no Ready, Running pod to run alembic in.</summary>
    public const string NoReadyPod = "MigrationNoReadyPod";

    /// <summary>-Via Pod: the exec connection ended before alembic's exit code arrived; the outcome is unknown.</summary>
    public const string ExecConnectionLost = "PodExecConnectionLost";

    /// <summary>The connection string cannot be parsed.</summary>
    public const string ConnectionStringInvalid = "DatabaseConnectionStringInvalid";

    /// <summary>No connection string: no -ConnectionString and no DATABASE_URL.</summary>
    public const string ConnectionStringMissing = "DatabaseConnectionStringMissing";

    /// <summary>The server could not be reached (refused, unresolvable host, timeout).</summary>
    public const string DatabaseUnreachable = "DatabaseUnreachable";

    /// <summary>The server refused the credentials.</summary>
    public const string AuthenticationFailed = "DatabaseAuthenticationFailed";

    /// <summary>The server answered with an error (missing database, permissions, …).</summary>
    public const string DatabaseError = "DatabaseError";
}
