using System.Globalization;

namespace Whyfail.Graph;

/// <summary>
/// Turns function_graph text (trace_pipe, with the funcgraph-abstime, -proc and -tail options) into
/// one call tree per invocation of an entry function, per thread. Lines of other functions outside
/// an entry are skipped, so it works both with set_graph_function (only the entries' subtrees are
/// traced) and without it (everything the traced threads do).
/// </summary>
public sealed class FunctionGraphParser(IReadOnlyDictionary<string, (string Syscall, int Nr)> entries, Action<Invocation> completed)
{
    private sealed class ThreadState
    {
        public Invocation? Current;
        public readonly List<CallNode> Stack = [];
    }

    private readonly Dictionary<int, ThreadState> _threads = [];

    /// <summary>Lines the tracer reported as lost ("[LOST n EVENTS]"): trees may then be incomplete.</summary>
    public long LostEvents { get; private set; }
    /// <summary>Lines that matched none of the known shapes (kept for the summary, never silently dropped).</summary>
    public long Unparsed { get; private set; }

    public void Line(string line)
    {
        if (line.Length == 0 || line.StartsWith('#')) return;
        if (line.Contains("[LOST ", StringComparison.Ordinal) && line.Contains(" EVENTS]", StringComparison.Ordinal))
        {
            int a = line.IndexOf("[LOST ", StringComparison.Ordinal) + 6, b = line.IndexOf(" EVENTS]", a, StringComparison.Ordinal);
            if (b > a && long.TryParse(line.AsSpan(a, b - a), out long n)) LostEvents += n;
            return;
        }
        // TIME | CPU) TASK-PID | DURATION | BODY. A task name (comm) may itself contain '|', and
        // function names never do: the body and duration are found from the right.
        int last = line.LastIndexOf('|');
        int prev = last > 0 ? line.LastIndexOf('|', last - 1) : -1;
        int first = line.IndexOf('|');
        if (last < 0 || prev < 0 || first < 0 || first >= prev)
        {
            if (!IsSeparator(line)) Unparsed++;
            return;
        }
        if (!double.TryParse(line.AsSpan(0, first).Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds))
        {
            Unparsed++;
            return;
        }
        var task = line.AsSpan(first + 1, prev - first - 1).TrimEnd();
        int dash = task.LastIndexOf('-');
        if (dash < 0 || !int.TryParse(task[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int tid))
        {
            Unparsed++;
            return;
        }
        double ts = Math.Round(seconds * 1e6, 3);
        double? duration = ParseDuration(line.AsSpan(prev + 1, last - prev - 1));
        var body = line.AsSpan(last + 1).Trim();

        if (!_threads.TryGetValue(tid, out var st))
            _threads[tid] = st = new ThreadState();

        if (body.EndsWith("() {"))
            Open(st, tid, body[..^4].ToString(), ts);
        else if (body.EndsWith("();"))
        {
            var node = Open(st, tid, body[..^3].ToString(), ts);
            if (node != null) Close(st, node.Name, ts + (duration ?? 0), duration);
        }
        else if (body.StartsWith("}"))
        {
            string? name = null;
            int c = body.IndexOf("/*"), e = body.IndexOf("*/");
            if (c >= 0 && e > c) name = body[(c + 2)..e].Trim().ToString();
            Close(st, name, ts, duration);
        }
        // anything else: comments (trace_printk), which carry no call
    }

    private static bool IsSeparator(string line)
    {
        var t = line.AsSpan().Trim();
        return t.Length == 0 || t.StartsWith("---") || t.Contains("=>", StringComparison.Ordinal);
    }

    /// <summary>"+ 14.477 us", "! 363.727 us", "* 42514.10 us", "$ 1293704 us", "2.697 us", or blank.</summary>
    internal static double? ParseDuration(ReadOnlySpan<char> s)
    {
        s = s.Trim();
        if (s.Length > 0 && "+!#*@$".Contains(s[0])) s = s[1..].TrimStart();
        if (s.EndsWith("us")) s = s[..^2].TrimEnd();
        return s.Length > 0 && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d : null;
    }

    private CallNode? Open(ThreadState st, int tid, string name, double ts)
    {
        if (st.Current == null)
        {
            if (!entries.TryGetValue(name, out var entry)) return null;
            var root = new CallNode(name) { StartUs = ts };
            st.Current = new Invocation { Tid = tid, Syscall = entry.Syscall, Nr = entry.Nr, Root = root };
            st.Stack.Add(root);
            return root;
        }
        var node = new CallNode(name) { StartUs = ts };
        st.Stack[^1].Children.Add(node);
        st.Stack.Add(node);
        return node;
    }

    private void Close(ThreadState st, string? name, double ts, double? duration)
    {
        if (st.Current == null) return;
        int at = st.Stack.Count - 1;
        if (name != null && st.Stack[at].Name != name)
        {
            // Lost lines: close up to the function named, if it is open at all.
            int found = st.Stack.FindLastIndex(n => n.Name == name);
            if (found < 0) return;
            at = found;
        }
        st.Stack[at].DurationUs = duration;
        st.Stack.RemoveRange(at, st.Stack.Count - at);
        if (st.Stack.Count == 0)
        {
            var inv = st.Current;
            inv.EndUs = ts;
            st.Current = null;
            completed(inv);
        }
    }

    /// <summary>Ends the trace: calls still open (the trace stopped inside them) are delivered as they are.</summary>
    public void Finish()
    {
        foreach (var st in _threads.Values)
            if (st.Current is { } inv)
            {
                st.Current = null;
                st.Stack.Clear();
                completed(inv);
            }
    }
}
