using Whyfail.Decoding;

namespace Whyfail.Capture;

/// <summary>What the capture stage should watch. Filled from the command line.</summary>
public sealed class CaptureOptions
{
    /// <summary>Every process on the machine (--system); otherwise only adopted ones and their children.</summary>
    public bool TraceAll { get; init; }
    /// <summary>Report successful calls too (--all).</summary>
    public bool ReportSuccess { get; init; }
    /// <summary>Children inherit tracing (default; --no-follow turns it off).</summary>
    public bool Follow { get; init; } = true;
    /// <summary>Ring buffer size in bytes (power of two, at least a page).</summary>
    public int RingBufferBytes { get; init; } = 16 << 20;
    /// <summary>Kernel functions to watch for error returns (origin); empty: no origin backend.</summary>
    public IReadOnlyList<string> OriginFunctions { get; init; } = [];
    /// <summary>A backend forced by --backend; null chooses the best the kernel allows.</summary>
    public Capture.Origin.OriginBackend? OriginBackend { get; init; }
    /// <summary>Progress while attaching origin probes: (done, total).</summary>
    public Action<int, int>? OriginProgress { get; init; }
    /// <summary>How long origin probes may be attached before tracing starts, with backends that attach one function at a time;
    /// the rest is left in <see cref="Origin.OriginAttacher.Pending"/>. Null: all of them.</summary>
    public TimeSpan? OriginUpFront { get; init; }
    /// <summary>--args: each origin record also brings its function's arguments (kretprobe backends: an entry probe per function too).</summary>
    public bool OriginArgs { get; init; }
    /// <summary>
    /// Copy each failure's context in the kernel (credentials, limits, cwd and root, the descriptor arguments' files, the
    /// seccomp filters: <see cref="Events.FailureContext"/>), which the explanations and the origin resolver read. Off
    /// when nothing would read it (--no-explain without origin probes): a repeated failure then costs the kernel side no
    /// proof that the context is unchanged (about 0.1x of a failing call's time, bench/README "No context where nothing
    /// reads it, session 22").
    /// </summary>
    public bool Context { get; init; } = true;
    /// <summary>Load the error-site kprobe program (--pinpoint; only where the kernel has kprobes).</summary>
    public bool Pinpoint { get; init; }
    /// <summary>
    /// Only these syscall numbers, errnos (failures only) and command names (--syscall, --errno, --comm), filtered
    /// in the kernel before an event is built; null: all. The session filters again (and decides what is shown):
    /// these spare the ring buffer. Errnos from 512 up (ERESTARTSYS …) always pass: user space maps them.
    /// </summary>
    public IReadOnlySet<int>? Syscalls { get; init; }
    public IReadOnlySet<int>? Errnos { get; init; }
    public IReadOnlyCollection<string>? Comms { get; init; }
    /// <summary>Successful calls reported after a failure of the same task (the verdict's follow-ups).</summary>
    public IReadOnlySet<int> FollowUps { get; init; } = FollowUpCalls.Default();
    /// <summary>What to copy from user memory per syscall number (<see cref="CaptureTable.BuiltIn"/>: the decoders' specs).</summary>
    public CaptureTable Captures { get; init; } = CaptureTable.Empty;
}

/// <summary>Counters the capture keeps; reported in the summary so that nothing is lost silently.</summary>
public readonly record struct CaptureStats(ulong Reported, ulong LostEvents, ulong LostEvidence);
