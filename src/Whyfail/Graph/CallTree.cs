namespace Whyfail.Graph;

/// <summary>One kernel function call in a recorded call tree (function_graph entry + exit).</summary>
public sealed class CallNode(string name)
{
    public string Name { get; } = name;
    /// <summary>Entry time, kernel monotonic clock, microseconds (function_graph abstime, trace_clock=mono).</summary>
    public double StartUs { get; set; }
    /// <summary>Duration in microseconds; null when the exit was not recorded (trace cut short).</summary>
    public double? DurationUs { get; set; }
    public List<CallNode> Children { get; } = [];
    /// <summary>The value the function returned, when an origin backend watched it (function_graph on these kernels has none).</summary>
    public long? Ret { get; set; }
    /// <summary>--args: the function's arguments, for nodes on the error path whose error return an origin backend recorded.</summary>
    public IReadOnlyList<Events.ProbeValue>? Args { get; set; }
    /// <summary>On the path from the syscall entry to where the error was born (or, without an origin, to the last call before returning).</summary>
    public bool OnErrorPath { get; set; }
    /// <summary>Where a failing tree parts from the successful one (set by <see cref="TreeDiff"/>).</summary>
    public bool Divergence { get; set; }

    /// <summary>Number of calls below this one.</summary>
    public int Descendants()
    {
        int n = 0;
        foreach (var c in Children) n += 1 + c.Descendants();
        return n;
    }

    /// <summary>This node and every descendant, parents before children.</summary>
    public IEnumerable<CallNode> PreOrder()
    {
        var stack = new Stack<CallNode>();
        stack.Push(this);
        while (stack.Count > 0)
        {
            var n = stack.Pop();
            yield return n;
            for (int i = n.Children.Count - 1; i >= 0; i--) stack.Push(n.Children[i]);
        }
    }

    /// <summary>This node and every descendant in return order (children before their parent).</summary>
    public IEnumerable<CallNode> PostOrder()
    {
        foreach (var c in Children)
            foreach (var n in c.PostOrder())
                yield return n;
        yield return this;
    }
}

/// <summary>One syscall invocation's kernel call tree, as recorded for one thread.</summary>
public sealed class Invocation
{
    public int Tid { get; init; }
    /// <summary>Thread group id; known once matched with whyfail's own sys_exit event.</summary>
    public int Pid { get; set; }
    public string Comm { get; set; } = "";
    public required string Syscall { get; init; }
    public int Nr { get; init; }
    public required CallNode Root { get; init; }
    /// <summary>Time the entry function returned (µs, monotonic); null when the trace ended inside the call.</summary>
    public double? EndUs { get; set; }
    /// <summary>The syscall's return value from the matching sys_exit event.</summary>
    public long? Ret { get; set; }
    public ulong? ExitTimestampNs { get; set; }
    public IReadOnlyList<string> Args { get; set; } = [];
    public Events.Origin? Origin { get; set; }
    /// <summary>How the error path was chosen: "origin" or "last calls".</summary>
    public string ErrorPathSource { get; set; } = "";
    public DiffResult? Diff { get; set; }
    public bool Failed => Ret is < 0 and >= -4095;
}
