using Whyfail.Events;

namespace Whyfail.Analysis.Verdict;

/// <summary>wait4/waitid with ECHILD: no child left to wait for, the normal end of a wait loop.</summary>
public sealed class WaitLoop : IRoutinePattern
{
    public bool Strong => true;

    public Routine? Judge(Tracked t, ProcessTrack process) =>
        t.Event.Syscall is "wait4" or "waitid" && Decoding.Errno.Name(t.Event.Errno) == "ECHILD"
            ? new Routine("probe", "wait loops", "no child left to wait for: the end of a wait loop")
            : null;
}
