using System.Net;
using System.Text;
using Whyfail.Rendering;

namespace Whyfail.Graph;

/// <summary>
/// A self-contained HTML page (no scripts, no external assets): each failing call's tree as nested
/// &lt;details&gt; elements, the error path open and marked, the rest collapsed. Every string that
/// came from the traced process or the kernel is sanitised and HTML-escaped.
/// </summary>
public sealed class GraphHtmlRenderer(TextWriter w)
{
    private readonly List<string> _notices = [];
    private readonly List<Invocation> _graphs = [];

    private static string E(string s) => WebUtility.HtmlEncode(TextSafety.Sanitize(s));

    public void Notice(string text) => _notices.Add(text);
    public void Invocation(Invocation inv) => _graphs.Add(inv);

    /// <summary>Writes the page (once, at the end).</summary>
    public void Finish(GraphSummary summary)
    {
        w.Write("""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
            <title>whyfail graph</title>
            <style>
            body{font:14px/1.4 ui-monospace,monospace;margin:1.5em;color:#222}
            h2{font-size:1.05em;margin:1.5em 0 .3em}
            details{margin-left:1.4em}
            summary{cursor:pointer}
            .leaf{margin-left:2.4em}
            .dur{color:#777;display:inline-block;min-width:8em;text-align:right;margin-right:.8em}
            .err>summary,.leaf.err{color:#b00;font-weight:bold}
            .err>summary::after,.leaf.err::after{content:"  \25C0 error path"}
            .parts>summary,.leaf.parts{background:#ffefb3}
            .ret{color:#b00}
            .fold{color:#777}
            .note{color:#555}
            </style></head><body>
            <h1>whyfail graph</h1>

            """);
        foreach (var n in _notices) w.Write($"<p class=\"note\">{E(n)}</p>\n");
        int i = 0;
        foreach (var inv in _graphs)
        {
            w.Write($"<section class=\"graph\" id=\"g{i++}\">\n<h2>{E(GraphWords.Who(inv))} {E(GraphWords.Call(inv))}</h2>\n");
            w.Write($"<p class=\"path\">{E(GraphWords.ErrorPathLine(inv))}</p>\n");
            if (inv.Diff is { } d)
            {
                w.Write($"<p class=\"diff\">Compared with a successful {E(inv.Syscall)} of the same process (tid {d.SuccessTid}, returned {d.SuccessRet}): {E(d.Sentence())}.</p>\n");
                if (d.NeverReached.Count > 0)
                    w.Write($"<p class=\"never\">{E(GraphWords.NeverReached(d))}</p>\n");
            }
            var sb = new StringBuilder();
            Node(sb, inv.Root);
            w.Write(sb);
            w.Write("</section>\n");
        }
        w.Write($"<p class=\"note\">{summary.Recorded} invocations recorded, {summary.Failing} failing, {summary.Shown} shown, " +
            $"{summary.SuccessfulDiscarded} successful discarded, {summary.Unmatched} without a matching syscall exit, {summary.LostEvents} trace events lost.</p>\n");
        w.Write("</body></html>\n");
        w.Flush();
    }

    private static void Node(StringBuilder sb, CallNode n)
    {
        string cls = (n.OnErrorPath ? " err" : "") + (n.Divergence ? " parts" : "");
        string label = $"<span class=\"dur\">{E(GraphWords.Duration(n.DurationUs))}</span><span class=\"fn\">{E(n.Name)}({E(n.Args is { } args ? Rendering.ArgumentText.Join(args) : "")})</span>" +
            (n.Ret is { } r ? $" <span class=\"ret\">= {E(GraphWords.Ret(r))}</span>" : "") +
            (n.Divergence ? " <span class=\"partnote\">parts from the successful call here</span>" : "");
        if (n.Children.Count == 0)
        {
            sb.Append($"<div class=\"leaf{cls}\">{label}</div>\n");
            return;
        }
        sb.Append($"<details class=\"call{cls}\"{(n.OnErrorPath || n.Divergence ? " open" : "")}><summary>{label} <span class=\"fold\">{n.Descendants()} calls</span></summary>\n");
        foreach (var c in n.Children) Node(sb, c);
        sb.Append("</details>\n");
    }
}
