namespace Whyfail.Graph;

/// <summary>
/// Removes from a recorded tree what is not the syscall's own work: calls made by whyfail's own BPF
/// programs (the origin probes and the sys_exit tracepoint run inside the traced call, and
/// function_graph records their helpers: runs of bpf_*/__bpf_* calls with the RCU and migration
/// brackets around them; with fexit, the trampolines' bare runs of RCU and migration brackets), and
/// interrupts that happened to arrive during the call (irq entry/exit, softirq processing).
/// </summary>
public static class ProbeNoise
{
    private static readonly HashSet<string> Brackets = ["__rcu_read_lock", "__rcu_read_unlock", "migrate_disable", "migrate_enable", "rcu_read_lock_held", "rcu_read_lock_trace_held"];

    /// <summary>Interrupt work run on the task's stack: an irq_enter… starts it, these follow it.</summary>
    private static readonly HashSet<string> Interrupt =
        ["irq_enter_rcu", "irq_enter", "irq_exit_rcu", "irq_exit", "__irq_exit_rcu", "idle_cpu", "handle_softirqs", "__do_softirq", "do_softirq", "tick_nohz_irq_exit", "irq_work_run", "__sysvec_apic_timer_interrupt"];

    private static bool IsBpf(string name) => name.StartsWith("bpf_", StringComparison.Ordinal) || name.StartsWith("__bpf_", StringComparison.Ordinal);

    private static bool StartsInterrupt(string name) =>
        name is "irq_enter_rcu" or "irq_enter" or "handle_softirqs" or "__do_softirq" || name.StartsWith("__sysvec_", StringComparison.Ordinal) || name.StartsWith("sysvec_", StringComparison.Ordinal);

    /// <summary>How many leaf calls from <paramref name="i"/> on are RCU/migration brackets (a trampoline's enter or exit).</summary>
    private static int BracketRun(List<CallNode> kids, int i)
    {
        int n = 0;
        while (i + n < kids.Count && kids[i + n].Children.Count == 0 && Brackets.Contains(kids[i + n].Name)) n++;
        return n;
    }

    /// <summary>Strips probe and interrupt calls everywhere below <paramref name="node"/>; returns how many calls were removed.</summary>
    /// <param name="trampolines">An fexit backend is attached: its trampolines leave rcu_read_lock/unlock pairs.</param>
    public static int Strip(CallNode node, bool trampolines)
    {
        int removed = 0;
        var kids = node.Children;
        for (int i = 0; i < kids.Count;)
        {
            int j = i;
            if (StartsInterrupt(kids[i].Name))
            {
                j = i + 1;
                while (j < kids.Count && (Interrupt.Contains(kids[j].Name) || StartsInterrupt(kids[j].Name))) j++;
            }
            else if (trampolines && BracketRun(kids, i) is var run && run >= 2)
                j = i + run;
            else
            {
                bool any = false;
                while (j < kids.Count && (IsBpf(kids[j].Name) || Brackets.Contains(kids[j].Name)))
                {
                    any |= IsBpf(kids[j].Name);
                    j++;
                }
                if (!any) j = i;
            }
            if (j > i)
            {
                for (int k = i; k < j; k++) removed += 1 + kids[k].Descendants();
                kids.RemoveRange(i, j - i);
            }
            else
                i++;
        }
        foreach (var c in kids) removed += Strip(c, trampolines);
        return removed;
    }
}
