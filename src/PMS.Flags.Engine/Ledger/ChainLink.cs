namespace PMS.Flags.Engine.Ledger;

/// <summary>What the verifier needs from one stored line: its position, its claimed sequence and links, and whether its hash holds.</summary>
public readonly record struct ChainLink(long Line, long? Sequence, string? PrevHash, string? Hash, bool HashValid, string? ParseError);
