namespace PMS.Flags.Engine.Common;

/// <summary>One documented ErrorId: its category and what it means.</summary>
public sealed record ErrorCatalogueEntry(string ErrorId, FlagsErrorKind Kind, string Meaning);
