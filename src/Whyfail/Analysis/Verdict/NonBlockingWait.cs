using Whyfail.Events;

namespace Whyfail.Analysis.Verdict;

/// <summary>A non-blocking call that would have blocked (EAGAIN, EINPROGRESS), followed by a wait for readiness (poll, select, epoll).</summary>
public sealed class NonBlockingWait : IRoutinePattern
{
    private static readonly HashSet<string> Waits = ["poll", "ppoll", "select", "pselect6", "epoll_wait", "epoll_pwait", "epoll_pwait2"];

    public bool Strong => true;

    public Routine? Judge(Tracked t, ProcessTrack process)
    {
        if (Decoding.Errno.Name(t.Event.Errno) is not ("EAGAIN" or "EINPROGRESS" or "EALREADY")) return null;
        var after = t.SuccessesAfter;
        for (int i = 0; i < after.Count; i++)
            if (after[i] is var s && Waits.Contains(s.Syscall))
                return new Routine("probe", "non-blocking waits", $"a non-blocking call that would block; the program then waited with {s.Syscall}");
        return null;
    }
}
