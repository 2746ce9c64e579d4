namespace PMS.Flags.Engine.Common;

/// <summary>
/// Narration from the engine. The cmdlet layer marshals these onto the pipeline thread
/// (Write-Verbose / Write-Warning / Write-Debug); the engine never formats a secret into them.
/// </summary>
public interface IOperationLog
{
    void Verbose(string message);

    void Warning(string message);

    void Debug(string message);
}
