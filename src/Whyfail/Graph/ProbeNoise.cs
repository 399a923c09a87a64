namespace Whyfail.Graph;

/// <summary>
/// Removes from a recorded tree the calls made by whyfail's own BPF programs (the origin probes and
/// the sys_exit tracepoint run inside the traced call, and function_graph records their helpers):
/// runs of sibling calls made only of BPF runtime functions (bpf_*, __bpf_*) and the RCU and
/// migration brackets around them.
/// </summary>
public static class ProbeNoise
{
    private static readonly HashSet<string> Brackets = ["__rcu_read_lock", "__rcu_read_unlock", "migrate_disable", "migrate_enable", "rcu_read_lock_held", "rcu_read_lock_trace_held"];

    private static bool IsBpf(string name) => name.StartsWith("bpf_", StringComparison.Ordinal) || name.StartsWith("__bpf_", StringComparison.Ordinal);

    /// <summary>Strips probe calls everywhere below <paramref name="node"/>; returns how many calls were removed.</summary>
    public static int Strip(CallNode node)
    {
        int removed = 0;
        var kids = node.Children;
        for (int i = 0; i < kids.Count;)
        {
            int j = i;
            bool any = false;
            while (j < kids.Count && (IsBpf(kids[j].Name) || Brackets.Contains(kids[j].Name)))
            {
                any |= IsBpf(kids[j].Name);
                j++;
            }
            if (any)
            {
                for (int k = i; k < j; k++) removed += 1 + kids[k].Descendants();
                kids.RemoveRange(i, j - i);
            }
            else
                i = Math.Max(j, i + 1);
        }
        foreach (var c in kids) removed += Strip(c);
        return removed;
    }
}
