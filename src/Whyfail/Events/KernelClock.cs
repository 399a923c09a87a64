using System.Diagnostics;

namespace Whyfail.Events;

/// <summary>The clock of every event's timestamp: bpf_ktime_get_ns, CLOCK_MONOTONIC, which Stopwatch reads on Linux.</summary>
public static class KernelClock
{
    /// <summary>Now, in nanoseconds of CLOCK_MONOTONIC (comparable with <see cref="SyscallEvent.TimestampNs"/>).</summary>
    public static ulong NowNs() => (ulong)(Stopwatch.GetTimestamp() * (1e9 / Stopwatch.Frequency));
}
