using Whyfail.Events;

namespace Whyfail.Analysis.Verdict;

/// <summary>An ioctl that found the descriptor is not a terminal (isatty and friends): the answer, not an error.</summary>
public sealed class TerminalProbe : IRoutinePattern
{
    public bool Strong => true;

    public Routine? Judge(Tracked t, ProcessTrack process) =>
        t.Event.Syscall == "ioctl" && Decoding.Errno.Name(t.Event.Errno) == "ENOTTY"
            ? new Routine("probe", "terminal probes", "a terminal probe (isatty): the descriptor is not a terminal, and the program carried on")
            : null;
}
