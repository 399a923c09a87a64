using System.Globalization;
using System.Text;
using Whyfail.Decoding;
using Whyfail.Rendering;

namespace Whyfail.Graph;

/// <summary>Shared wording of a failing invocation for the text and HTML views.</summary>
internal static class GraphWords
{
    public static string Call(Invocation inv) =>
        $"{inv.Syscall}({string.Join(", ", inv.Args)}) = {inv.Ret}" +
        (inv.Failed ? $" {Errno.Name((int)-inv.Ret!.Value) ?? "?"} ({Errno.Message((int)-inv.Ret!.Value)})" : "");

    public static string Who(Invocation inv) => $"{inv.Comm}[{inv.Pid}{(inv.Tid != inv.Pid ? $"/{inv.Tid}" : "")}]";

    public static string ErrorPathLine(Invocation inv)
    {
        var path = string.Join(" → ", ErrorPath.Nodes(inv).Select(n => n.Name));
        if (inv.ErrorPathSource == "origin" && inv.Origin is { } o)
        {
            string err = inv.Ret is { } r ? Ret(r) : "the error";
            return $"error path (the calls that returned {err}, recorded by {o.Backend}; origin: {o.Function}): {path}";
        }
        return $"error path (the last calls before the return; no origin backend recorded return values): {path}";
    }

    public static string Duration(double? us) => us is { } d ? d.ToString(d >= 1000 ? "0" : "0.000", CultureInfo.InvariantCulture) + " us" : "";

    public static string Ret(long ret) => ret < 0 && ret >= -4095 ? $"-{Errno.Name((int)-ret) ?? (-ret).ToString(CultureInfo.InvariantCulture)}" : ret.ToString(CultureInfo.InvariantCulture);

    public static string NeverReached(DiffResult d) =>
        $"never reached by the failing call: {string.Join(", ", d.NeverReached)}" +
        (d.NeverReachedTotal > d.NeverReached.Count ? $" (and {d.NeverReachedTotal - d.NeverReached.Count} more)" : "");

    /// <summary>
    /// The rows to show: consecutive calls of the same function off the error path are merged
    /// (×N), and subtrees off the error path with more than <paramref name="foldAbove"/> calls are folded.
    /// </summary>
    public static IEnumerable<Row> Rows(CallNode node, int depth, int foldAbove)
    {
        bool folded = !node.OnErrorPath && !node.Divergence && node.Descendants() > foldAbove;
        yield return new Row(node, depth, 1, node.DurationUs, folded);
        if (folded) yield break;
        var kids = node.Children;
        for (int i = 0; i < kids.Count;)
        {
            int j = i + 1;
            if (Plain(kids[i]))
                while (j < kids.Count && Plain(kids[j]) && kids[j].Name == kids[i].Name && kids[j].Children.Count == 0 && kids[i].Children.Count == 0) j++;
            if (j - i > 1)
            {
                double? total = 0;
                for (int k = i; k < j; k++) total = kids[k].DurationUs is { } d && total is { } t ? t + d : null;
                yield return new Row(kids[i], depth + 1, j - i, total, false);
            }
            else
                foreach (var r in Rows(kids[i], depth + 1, foldAbove)) yield return r;
            i = j;
        }
    }

    private static bool Plain(CallNode n) => !n.OnErrorPath && !n.Divergence && n.Ret == null;

    public readonly record struct Row(CallNode Node, int Depth, int Repeat, double? DurationUs, bool Folded);
}

/// <summary>The text view: an indented tree as function_graph prints it, with the error path marked.</summary>
public sealed class GraphTextRenderer(TextWriter w, bool color, int foldAbove = 12)
{
    private string Paint(string s, string code) => color ? $"\e[{code}m{s}\e[0m" : s;

    public void Notice(string text) => w.WriteLine($"whyfail: {TextSafety.Sanitize(text)}");

    public void Invocation(Invocation inv)
    {
        w.WriteLine(Paint(TextSafety.Sanitize($"{GraphWords.Who(inv)} {GraphWords.Call(inv)}"), "1"));
        w.WriteLine($"  {GraphWords.ErrorPathLine(inv)}");
        if (inv.Diff is { } d)
        {
            w.WriteLine($"  compared with a successful {inv.Syscall} of the same process (tid {d.SuccessTid}, returned {d.SuccessRet}):");
            w.WriteLine($"    {d.Sentence()}");
            if (d.NeverReached.Count > 0) w.WriteLine($"    {GraphWords.NeverReached(d)}");
        }
        w.WriteLine("    DURATION      |  FUNCTION CALLS   (> error path, * where it parts from the successful call)");
        var open = new Stack<(int Depth, CallNode Node)>();
        void CloseTo(int depth)
        {
            while (open.Count > 0 && open.Peek().Depth >= depth)
            {
                var (d, node) = open.Pop();
                string line = $"{(node.OnErrorPath ? '>' : ' ')} {"",14} |  {new string(' ', d * 2)}}} /* {node.Name} */";
                w.WriteLine(node.OnErrorPath ? Paint(line, "31") : line);
            }
        }
        foreach (var row in GraphWords.Rows(inv.Root, 0, foldAbove))
        {
            var n = row.Node;
            CloseTo(row.Depth);
            var sb = new StringBuilder();
            sb.Append(n.OnErrorPath ? '>' : n.Divergence ? '*' : ' ');
            sb.Append(' ').Append(GraphWords.Duration(row.DurationUs).PadLeft(14)).Append(" |  ").Append(' ', row.Depth * 2);
            bool opens = !row.Folded && n.Children.Count > 0 && row.Repeat == 1;
            sb.Append(n.Name).Append('(').Append(n.Args is { } args ? Rendering.ArgumentText.Join(args) : "").Append(')');
            if (row.Folded) sb.Append($" {{ … {n.Descendants()} calls }}");
            else sb.Append(opens ? " {" : ";");
            if (row.Repeat > 1) sb.Append($"  ×{row.Repeat}");
            if (n.Ret is { } ret) sb.Append($"  = {GraphWords.Ret(ret)}");
            if (n.Divergence) sb.Append("   ← parts from the successful call here");
            string line = sb.ToString();
            w.WriteLine(n.OnErrorPath ? Paint(line, "31") : n.Divergence ? Paint(line, "33") : line);
            if (opens) open.Push((row.Depth, n));
        }
        CloseTo(0);
        w.WriteLine();
        w.Flush();
    }
}
