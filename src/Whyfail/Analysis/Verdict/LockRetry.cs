using Whyfail.Events;

namespace Whyfail.Analysis.Verdict;

/// <summary>futex EAGAIN: the lock word changed before the thread slept; lock code retries by design.</summary>
public sealed class LockRetry : IRoutinePattern
{
    public bool Strong => true;

    public Routine? Judge(Tracked t, ProcessTrack process) =>
        t.Event.Syscall == "futex" && Decoding.Errno.Name(t.Event.Errno) == "EAGAIN"
            ? new Routine("probe", "lock retries", "the futex word changed before the wait: the lock is retried")
            : null;
}
