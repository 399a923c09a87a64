using System.Text;
using Whyfail.Events;

namespace Whyfail.Rendering;

/// <summary>Text for the source lines of an origin (see Analysis/Origin/Source): locations, error sites, snippet.</summary>
public static class SourceText
{
    /// <summary>Most candidate sites listed on one line.</summary>
    public const int MaxCandidates = 8;

    /// <summary>" (fs/namei.c:1445, inlined traverse_mounts ← handle_mounts)", or "" when unknown.</summary>
    public static string Location(IReadOnlyList<SourceFrame> frames)
    {
        if (frames.Count == 0) return "";
        var sb = new StringBuilder(" (").Append(frames[0].File).Append(':').Append(frames[0].Line);
        // DWARF may show a function inlined into an out-of-line copy of itself: not worth a mention.
        var inlined = frames.Where(f => f.Inlined && f.Function != frames[^1].Function).Select(f => f.Function).ToList();
        if (inlined.Count > 0) sb.Append(", inlined ").AppendJoin(" ← ", inlined);
        return TextSafety.Sanitize(sb.Append(')').ToString());
    }

    /// <summary>The location of chain link <paramref name="i"/> (1 = the origin's caller).</summary>
    public static string ChainLocation(Events.Origin o, int i) =>
        i - 1 < o.ChainFrames.Count ? Location(o.ChainFrames[i - 1]) : "";

    /// <summary>The "error site" lines below the origin, with the snippet; nothing when sites were not looked for.</summary>
    public static void AppendSites(StringBuilder sb, Events.Origin o, Func<string, string> label, Func<string, string> highlight)
    {
        if (o.SiteKind is null or "none" || o.Sites.Count == 0) return;
        if (o.SiteKind == "exact")
        {
            var f = o.Sites[0].Frames[0];
            sb.Append("    ").Append(label(o.Pinpointed ? "error site (pinpointed by kprobe):" : "error site:")).Append(' ').Append(TextSafety.Sanitize($"{f.File}:{f.Line}"));
            if (o.Sites[0].Text is { } t) sb.Append("  ").Append(TextSafety.Sanitize(t));
            sb.Append(o.Pinpointed ? "\n" : "  (exact)\n");
        }
        else
        {
            sb.Append("    ").Append(label($"error sites ({o.Sites.Count} candidates{(o.Pinpointed ? ", narrowed by kprobe" : "")}):")).Append(' ')
              .AppendJoin(", ", o.Sites.Take(MaxCandidates).Select(s => TextSafety.Sanitize($"{s.Frames[0].File}:{s.Frames[0].Line}")));
            if (o.Sites.Count > MaxCandidates) sb.Append($", … {o.Sites.Count - MaxCandidates} more");
            sb.Append('\n');
        }
        if (o.Snippet is { } snip)
        {
            int width = (snip.FirstLine + snip.Lines.Count - 1).ToString().Length;
            for (int k = 0; k < snip.Lines.Count; k++)
            {
                int n = snip.FirstLine + k;
                string text = TextSafety.Sanitize(snip.Lines[k].Replace("\t", "        "));
                string row = $"      {(n == snip.Line ? ">" : " ")} {n.ToString().PadLeft(width)} | {text}";
                sb.Append(n == snip.Line ? highlight(row) : row).Append('\n');
            }
        }
    }
}
