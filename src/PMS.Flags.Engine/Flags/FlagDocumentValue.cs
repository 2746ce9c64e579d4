namespace PMS.Flags.Engine.Flags;

/// <summary>One flag's value in one environment of a flag document, as its text spells it.</summary>
public readonly record struct FlagDocumentValue(string Flag, string Environment, bool On, decimal Percentage);
