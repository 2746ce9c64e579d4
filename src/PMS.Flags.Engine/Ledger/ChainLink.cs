namespace PMS.Flags.Engine.Ledger;

/// <summary>
/// What the verifier needs from one stored line: its position, its claimed sequence and links, and whether its hash
/// holds. PrevHash is null for the first event (JSON null); PrevHashReadable is false when the field is not a digest.
/// </summary>
public readonly record struct ChainLink(long Line, long? Sequence, Sha256Value? PrevHash, bool PrevHashReadable, Sha256Value? Hash, bool HashValid, string? ParseError);
