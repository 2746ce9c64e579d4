namespace PMS.Flags.Engine.Common;

/// <summary>Engine-side error categories; the cmdlet layer maps them onto PowerShell's ErrorCategory.</summary>
public enum FlagsErrorKind
{
    InvalidArgument,
    InvalidData,
    ObjectNotFound,
    PermissionDenied,
    ResourceUnavailable,
    OperationTimeout,
    InvalidOperation,
    ConnectionError,
    AuthenticationError,
    LimitsExceeded,
    WriteError,
}
