using Whyfail.Events;

namespace Whyfail.Analysis.Verdict;

/// <summary>
/// An optional local service: connect to a unix socket that is not there or not listening (a name-service
/// cache, a session bus), after which the thread carried on without it.
/// </summary>
public sealed class OptionalService : IRoutinePattern
{
    public bool Strong => false;

    public Routine? Judge(Tracked t, ProcessTrack process)
    {
        var ev = t.Event;
        if (ev.Syscall != "connect" || !t.ThreadCarriedOn || ev.DecodedArgs.Count < 2 || !ev.DecodedArgs[1].Contains("AF_UNIX", StringComparison.Ordinal))
            return null;
        return Decoding.Errno.Name(ev.Errno) is "ENOENT" or "ECONNREFUSED"
            ? new Routine("probe", "service probes", "an optional local service (a unix socket) is not there; the program carried on without it")
            : null;
    }
}
