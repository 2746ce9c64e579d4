namespace PMS.Flags.Engine.Tests.Ledger;

/// <summary>Tests that weigh the managed heap run alone: another test's allocations would be counted as theirs.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ExportMemoryCollection
{
    public const string Name = "ExportMemory";
}
