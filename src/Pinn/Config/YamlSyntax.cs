using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Pinn.Config;

/// <summary>
/// Where a YAML syntax error is, for the cases YamlDotNet gets wrong: its "invalid tab as indentation"
/// error always says line 1, and an unclosed flow list (<c>layers: [8, 8</c> followed by more keys) makes
/// its scanner throw an InvalidOperationException with no position at all.
/// </summary>
public static class YamlSyntax
{
    /// <summary>The line to report for <paramref name="e"/>.</summary>
    public static int Line(string text, YamlException e) =>
        e.Message.Contains("tab", StringComparison.OrdinalIgnoreCase) && FirstTabIndentedLine(text) is { } tab ? tab : (int)e.Start.Line;

    /// <summary>
    /// The error for a parse that failed without a <see cref="YamlException"/>: the events are replayed up to
    /// the failure, and the innermost flow collection still open there (the usual culprit) is reported with
    /// the line it opens on; otherwise the line of the last event that parsed.
    /// </summary>
    public static PinnException Unlocated(string text, string file, Exception e)
    {
        var open = new Stack<(bool Flow, char Bracket, Mark Start)>();
        var last = Mark.Empty;
        try
        {
            var parser = new Parser(new StringReader(text));
            while (parser.MoveNext())
            {
                var ev = parser.Current!;
                last = ev.End;
                switch (ev)
                {
                    case SequenceStart s: open.Push((s.Style == SequenceStyle.Flow, '[', s.Start)); break;
                    case MappingStart m: open.Push((m.Style == MappingStyle.Flow, '{', m.Start)); break;
                    case SequenceEnd or MappingEnd when open.Count > 0: open.Pop(); break;
                }
            }
        }
        catch (Exception replay) when (replay is YamlException or InvalidOperationException or ArgumentException)
        {
            // the same failure, reached again: `open` and `last` say where it happened
        }
        foreach (var (flow, bracket, start) in open)
        {
            if (!flow) continue;
            var close = bracket == '[' ? ']' : '}';
            return new PinnException($"malformed YAML: the '{bracket}' opened here is never closed (add '{close}' before the next key)",
                                     file, (int)start.Line, e);
        }
        return new PinnException("malformed YAML: the text after this point cannot be parsed", file,
                                 last.Line > 0 ? (int)last.Line : null, e);
    }

    static int? FirstTabIndentedLine(string text)
    {
        var lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            var indent = lines[i][..(lines[i].Length - lines[i].TrimStart(' ', '\t').Length)];
            if (indent.Contains('\t')) return i + 1;
        }
        return null;
    }
}
