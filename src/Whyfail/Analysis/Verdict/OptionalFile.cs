using Whyfail.Analysis.Explain;
using Whyfail.Events;

namespace Whyfail.Analysis.Verdict;

/// <summary>
/// An optional file: opened for reading (nothing created), absent, and the thread carried on without a word
/// about it (a configuration or cache file read when it is there). Also an open of a special file with no
/// device behind it (ENXIO: no controlling terminal, no reader on a FIFO) that the thread carried on from.
/// </summary>
public sealed class OptionalFile : IRoutinePattern
{
    public bool Strong => false;

    // One object each (a Routine is immutable): a flood of optional-file misses judges hundreds of thousands a second.
    private static readonly Routine DeviceProbe = new("probe", "device probes", "a special file with no device behind it; the program carried on");
    private static readonly Routine Optional = new("probe", "optional files", "a file read only if it is there; the program carried on");

    public Routine? Judge(Tracked t, ProcessTrack process)
    {
        var ev = t.Event;
        if (!t.ThreadCarriedOn || SyscallArgs.OpenFlags(ev) is not { } flags) return null;
        if (Decoding.Errno.Name(ev.Errno) == "ENXIO")
            return DeviceProbe;
        return SyscallArgs.ReadsOnly(flags) && RoutinePatterns.IsAbsent(ev.Errno)
            ? Optional
            : null;
    }
}
