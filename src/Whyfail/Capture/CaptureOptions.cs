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
    /// <summary>What to copy from user memory per syscall number.</summary>
    public IEnumerable<(int Nr, CaptureSpec Spec)> Captures { get; init; } = [];
}

/// <summary>Counters the capture keeps; reported in the summary so that nothing is lost silently.</summary>
public readonly record struct CaptureStats(ulong Reported, ulong LostEvents, ulong LostEvidence);
