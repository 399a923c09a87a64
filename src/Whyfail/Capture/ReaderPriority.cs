using System.Runtime.InteropServices;
using Whyfail.Capture.Native;

namespace Whyfail.Capture;

/// <summary>
/// The ring's reader runs <see cref="Boost"/> nice steps above whyfail's own priority (which the command inherited) while it
/// falls behind: from a quarter of the ring waiting until it is back under a sixteenth. A flood's failing threads and the
/// reader share the CPUs, and the reader costs a few µs of CPU per record, about what a failing call costs its thread: at
/// an equal share, two failing threads on two CPUs write records faster than the reader takes them, the ring fills and
/// records are lost (bench/README "Floods at two threads, session 17": 15-45 % lost). Raised, the reader takes the CPU it
/// needs while records wait; the failing threads wait for it instead of losing their records. A reader that keeps up
/// (one failing thread, or any quieter workload) is never raised. Threads started by the reader while raised inherit
/// it (the GC's background thread: the reader's work too). Without CAP_SYS_NICE (or an RLIMIT_NICE that allows it) the
/// priority stays as it is. WHYFAIL_READER_NICE=N (a measuring aid): N steps instead of <see cref="Boost"/> (0: never).
/// </summary>
internal sealed class ReaderPriority
{
    private const int Boost = 20; // 10 was not always enough: bench/README "Floods at two threads, session 17"
    private static readonly int PrioProcess = (int)Decoding.Xlat.Table("priority_which")["PRIO_PROCESS"];
    private readonly int _boost;
    private uint _tid;
    private int _before;
    private bool _raised, _refused;

    /// <summary>How many times the reader was raised (WHYFAIL_RING_STATS=1 prints it).</summary>
    public int Raised { get; private set; }

    private ReaderPriority(int boost) => _boost = boost;

    /// <summary>The policy, or null when <paramref name="steps"/> (WHYFAIL_READER_NICE's value; unset: <see cref="Boost"/>) is 0.</summary>
    public static ReaderPriority? Create(string? steps)
    {
        int boost = int.TryParse(steps, out int n) ? n : Boost;
        return boost > 0 ? new ReaderPriority(boost) : null;
    }

    /// <summary>On the reading thread: <paramref name="waiting"/> bytes of a <paramref name="size"/>-byte ring are waiting.</summary>
    public void Follow(long waiting, long size)
    {
        if (!_raised && !_refused && waiting > size / 4) Raise();
        else if (_raised && waiting < size / 16) AtRest();
    }

    private void Raise()
    {
        uint tid = (uint)Libc.GetTid();
        int before = Libc.GetPriority(PrioProcess, tid);
        if (before == -1 && Marshal.GetLastPInvokeError() != 0) { _refused = true; return; }
        int raised = Math.Max(-20, before - _boost);
        if (raised == before || Libc.SetPriority(PrioProcess, tid, raised) != 0) { _refused = true; return; }
        (_tid, _before, _raised) = (tid, before, true);
        Raised++;
    }

    /// <summary>Back to whyfail's own priority (the reader caught up, or the loop ends).</summary>
    public void AtRest()
    {
        if (!_raised) return;
        Libc.SetPriority(PrioProcess, _tid, _before);
        _raised = false;
    }
}
