namespace PMS.Flags.Engine.Flags;

/// <summary>Where one property of a JSON object sits in the document text: its name and the [ValueStart, ValueEnd) span of its value.</summary>
public readonly record struct JsonMember(string Name, int ValueStart, int ValueEnd);
