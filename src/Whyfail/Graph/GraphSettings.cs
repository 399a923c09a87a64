namespace Whyfail.Graph;

/// <summary>What `whyfail graph` was asked to do.</summary>
public sealed class GraphSettings
{
    public IReadOnlyList<string> Command { get; init; } = [];
    public IReadOnlyList<int> Pids { get; init; } = [];
    /// <summary>Syscall names whose call trees are recorded.</summary>
    public IReadOnlyList<string> Syscalls { get; init; } = [];
    public ISet<int>? Errnos { get; init; }
    public bool Diff { get; init; }
    public string? OutputFile { get; init; }
    public bool Json { get; init; }
    public bool Html { get; init; }
    public Tracing.ColorMode Color { get; init; }
    /// <summary>A JSON recording to show instead of tracing (--input).</summary>
    public string? Input { get; init; }
    /// <summary>Origin backend (return values, error path); null = the best the kernel allows.</summary>
    public Capture.Origin.OriginBackend? Backend { get; init; }
    public int DeepBudget { get; init; } = 300;
    /// <summary>--args: the arguments of the functions on the error path (from the origin backend's records).</summary>
    public bool Args { get; init; }
    public int FoldAbove { get; init; } = 12;
    public int BufferKbPerCpu { get; init; } = 16384;
}
