using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using PMS.Flags.Engine.Common;

namespace PMS.Flags.Engine.Notifications;

/// <summary>
/// Fills a template's <c>[PLACEHOLDER]</c>s with facts. Every placeholder must be known, or the template is refused
/// (NotificationPlaceholderUnknown) before anything is sent: a message that goes out with "[TEAM_LEAD]" in it tells the
/// team nothing and looks as if nobody read it.
/// </summary>
public static class NotificationRenderer
{
    public const string TextFormat = "Text";
    public const string MarkdownFormat = "Markdown";

    private static readonly Regex Placeholder = new(@"\[(?<name>[A-Z][A-Z0-9_]*)\]", RegexOptions.CultureInvariant);

    public static FlagNotification Render(string templateName, string templateText, NotificationFacts facts, string format)
    {
        var canonicalFormat = string.Equals(format, MarkdownFormat, StringComparison.OrdinalIgnoreCase) ? MarkdownFormat
            : string.Equals(format, TextFormat, StringComparison.OrdinalIgnoreCase) ? TextFormat
            : throw new FlagsException("NotificationFormatUnknown", FlagsErrorKind.InvalidArgument, $"'{format}' is not a notification format: Text or Markdown.", format);
        var values = facts.Values;
        var unknown = Placeholder.Matches(templateText).Select(m => m.Groups["name"].Value)
            .Where(n => !values.ContainsKey(n) && !NotificationTemplates.LiteralTags.Contains(n))
            .Distinct(StringComparer.Ordinal).ToArray();
        if (unknown.Length > 0)
        {
            throw new FlagsException(
                "NotificationPlaceholderUnknown",
                FlagsErrorKind.InvalidData,
                $"The template '{templateName}' uses {string.Join(", ", unknown.Select(u => $"[{u}]"))}, which PMS.Flags cannot fill. Known placeholders: {string.Join(", ", values.Keys.OrderBy(k => k, StringComparer.Ordinal).Select(k => $"[{k}]"))}.",
                templateName);
        }

        // A placeholder alone on its line with nothing to say (no additional actions) leaves no empty line behind.
        var lines = templateText.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n')
            .Where(line => !(Placeholder.Match(line.Trim()) is { Success: true } only && only.Length == line.Trim().Length && values.TryGetValue(only.Groups["name"].Value, out var v) && v.Length == 0))
            .Select(line => Placeholder.Replace(line, m => values.TryGetValue(m.Groups["name"].Value, out var v) ? v : m.Value))
            .ToList();
        var subject = $"[PMS] {facts.Flag} in {facts.Environment}";
        if (lines.Count > 0 && lines[0].StartsWith("Subject:", StringComparison.OrdinalIgnoreCase))
        {
            subject = lines[0]["Subject:".Length..].Trim();
            lines.RemoveAt(0);
        }

        var body = string.Join("\n", lines).Trim('\n');
        if (canonicalFormat == MarkdownFormat)
        {
            body = ToMarkdown(subject, body);
        }

        return new FlagNotification
        {
            Template = templateName,
            Event = facts.Event,
            Flag = facts.Flag,
            Environment = facts.Environment,
            Subject = subject,
            Body = body,
            Format = canonicalFormat,
        };
    }

    // Markdown for chat: the subject as a bold first line, section headings ("Timeline:") bold; lists stay lists.
    private static string ToMarkdown(string subject, string body)
    {
        var text = new StringBuilder();
        text.Append("**").Append(subject).Append("**\n\n");
        foreach (var line in body.Split('\n'))
        {
            var heading = Regex.Match(line, @"^(?<label>[A-Z][A-Za-z ]+):(?<rest>.*)$", RegexOptions.CultureInvariant);
            text.Append(heading.Success ? $"**{heading.Groups["label"].Value}:**{heading.Groups["rest"].Value}" : line).Append('\n');
        }

        return text.ToString().TrimEnd('\n');
    }

    internal static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
}
