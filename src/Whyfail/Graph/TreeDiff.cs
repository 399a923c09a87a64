namespace Whyfail.Graph;

/// <summary>Where a failing call's tree parts from a successful call's tree of the same syscall.</summary>
public sealed class DiffResult
{
    public int SuccessTid { get; init; }
    public long SuccessRet { get; init; }
    /// <summary>The failing tree's path (entry first) down to the function in which the two part.</summary>
    public IReadOnlyList<string> Path { get; init; } = [];
    /// <summary>The last call both made in that function before parting, or null when they part at its first call.</summary>
    public string? LastCommon { get; init; }
    /// <summary>What the failing call did next there (a function, or null: it returned).</summary>
    public string? FailingNext { get; init; }
    /// <summary>What the successful call did next there (a function, or null: it returned).</summary>
    public string? SuccessNext { get; init; }
    /// <summary>Functions the successful call went through after the parting point that the failing call never reached, shallowest first.</summary>
    public IReadOnlyList<string> NeverReached { get; init; } = [];
    public int NeverReachedTotal { get; init; }

    public string Parent => Path.Count > 0 ? Path[^1] : "";

    /// <summary>One sentence: where the two calls part.</summary>
    public string Sentence() =>
        $"in {Parent}{(LastCommon != null ? $", after {LastCommon}," : ",")} the failing call " +
        (FailingNext != null ? $"went on to {FailingNext}" : "returned") + " where the successful one " +
        (SuccessNext != null ? $"went on to {SuccessNext}" : "returned");
}

/// <summary>
/// Compares a failing call tree with a successful one of the same syscall, following the failing
/// tree's error path: children are aligned by name (longest common subsequence, scheduling and
/// interrupt noise ignored) and the walk descends while the error path's next call has a partner.
/// </summary>
public static class TreeDiff
{
    /// <summary>Calls that come and go with timing (scheduling, interrupts), not with the call's logic.</summary>
    private static readonly HashSet<string> Noise =
    [
        "__cond_resched", "_cond_resched", "schedule", "preempt_schedule", "preempt_schedule_common", "preempt_schedule_irq",
        "__might_resched", "__might_sleep", "__might_fault", "irq_enter_rcu", "irq_exit_rcu", "irq_enter", "irq_exit",
        "handle_softirqs", "__do_softirq", "do_softirq", "rcu_note_context_switch", "__schedule", "__rcu_read_lock", "__rcu_read_unlock",
    ];

    public static bool IsNoise(string name) => Noise.Contains(name) || name.StartsWith("sysvec_") || name.StartsWith("__sysvec_") || name.StartsWith("asm_");

    public static DiffResult Compare(Invocation failing, Invocation success, int maxNames = 12)
    {
        var f = failing.Root;
        var s = success.Root;
        var path = new List<string> { f.Name };
        var sPath = new List<(CallNode Parent, int Index)>(); // the successful tree's side of the walk
        while (true)
        {
            var fc = f.Children.LastOrDefault(c => c.OnErrorPath);
            var pairs = Align(f.Children, s.Children);
            int fcIndex = fc != null ? f.Children.IndexOf(fc) : f.Children.Count;
            if (fc != null && pairs.TryGetValue(fcIndex, out int sIndex) && Differs(fc, s.Children[sIndex]))
            {
                f = fc;
                sPath.Add((s, sIndex));
                s = s.Children[sIndex];
                path.Add(f.Name);
                continue;
            }
            // They part in f: the last common call before the error path's next step.
            int lastF = -1, lastS = -1;
            foreach (var (fi, si) in pairs.OrderBy(p => p.Key))
                if (fi < fcIndex && !IsNoise(f.Children[fi].Name)) (lastF, lastS) = (fi, si);
            if (fc != null && pairs.ContainsKey(fcIndex))
            {
                // The error path's call has an identical partner: they part after it.
                (lastF, lastS) = (fcIndex, pairs[fcIndex]);
            }
            var failingNext = f.Children.Skip(lastF + 1).FirstOrDefault(c => !IsNoise(c.Name) && !pairs.ContainsKey(f.Children.IndexOf(c)));
            var successNext = s.Children.Skip(lastS + 1).FirstOrDefault(c => !IsNoise(c.Name) && !pairs.ContainsValue(s.Children.IndexOf(c)));
            (failingNext ?? f).Divergence = true;

            // Never reached: what the successful call did from the parting point on, absent from the whole failing tree.
            var failingNames = failing.Root.PreOrder().Select(n => n.Name).ToHashSet();
            var after = new List<(string Name, int Depth, int Order)>();
            int order = 0;
            void Collect(CallNode n, int depth)
            {
                after.Add((n.Name, depth, order++));
                foreach (var c in n.Children) Collect(c, depth + 1);
            }
            foreach (var c in s.Children.Skip(lastS + 1)) Collect(c, path.Count);
            // ... and everything it did after returning from there, up to the entry's return.
            for (int k = sPath.Count - 1; k >= 0; k--)
                foreach (var c in sPath[k].Parent.Children.Skip(sPath[k].Index + 1)) Collect(c, k + 1);
            var missing = after.Where(a => !failingNames.Contains(a.Name) && !IsNoise(a.Name))
                .GroupBy(a => a.Name).Select(g => g.OrderBy(a => a.Depth).ThenBy(a => a.Order).First())
                .OrderBy(a => a.Depth).ThenBy(a => a.Order).Select(a => a.Name).ToList();
            return new DiffResult
            {
                SuccessTid = success.Tid,
                SuccessRet = success.Ret ?? 0,
                Path = path,
                LastCommon = lastF >= 0 ? f.Children[lastF].Name : null,
                FailingNext = failingNext?.Name,
                SuccessNext = successNext?.Name,
                NeverReached = missing.Take(maxNames).ToList(),
                NeverReachedTotal = missing.Count,
            };
        }
    }

    /// <summary>Whether two subtrees differ in their (non-noise) call structure.</summary>
    private static bool Differs(CallNode a, CallNode b)
    {
        var ca = a.Children.Where(c => !IsNoise(c.Name)).ToList();
        var cb = b.Children.Where(c => !IsNoise(c.Name)).ToList();
        if (ca.Count != cb.Count) return true;
        for (int i = 0; i < ca.Count; i++)
            if (ca[i].Name != cb[i].Name || Differs(ca[i], cb[i])) return true;
        return false;
    }

    /// <summary>Longest common subsequence of two call lists by name (noise left unmatched): failing index → success index.</summary>
    internal static Dictionary<int, int> Align(IReadOnlyList<CallNode> a, IReadOnlyList<CallNode> b)
    {
        int n = a.Count, m = b.Count;
        var len = new int[n + 1, m + 1];
        for (int i = n - 1; i >= 0; i--)
            for (int j = m - 1; j >= 0; j--)
                len[i, j] = a[i].Name == b[j].Name && !IsNoise(a[i].Name) ? len[i + 1, j + 1] + 1 : Math.Max(len[i + 1, j], len[i, j + 1]);
        var map = new Dictionary<int, int>();
        for (int i = 0, j = 0; i < n && j < m;)
        {
            if (a[i].Name == b[j].Name && !IsNoise(a[i].Name)) { map[i++] = j++; }
            else if (len[i + 1, j] >= len[i, j + 1]) i++;
            else j++;
        }
        return map;
    }
}
