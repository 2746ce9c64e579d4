namespace PMS.Flags.Engine.Flags;

/// <summary>The outcome of editing one flag in a flag document: its value before and after, and the whole new text.</summary>
public sealed record FlagDocumentEdit(FlagDocumentValue Before, FlagDocumentValue After, string NewText)
{
    /// <summary>Compares meaning, not spelling: "25.0" in the document is already 25%, and its spelling is kept.</summary>
    public bool Changed => Before.On != After.On || Before.Percentage != After.Percentage;
}
