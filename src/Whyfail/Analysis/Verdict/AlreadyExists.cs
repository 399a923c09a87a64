using Whyfail.Events;

namespace Whyfail.Analysis.Verdict;

/// <summary>mkdir of a directory that already exists (mkdir -p, make-sure-it-exists code), after which the thread carried on.</summary>
public sealed class AlreadyExists : IRoutinePattern
{
    public bool Strong => false;

    public Routine? Judge(Tracked t, ProcessTrack process) =>
        t.Event.Syscall is "mkdir" or "mkdirat" && Decoding.Errno.Name(t.Event.Errno) == "EEXIST" && t.ThreadCarriedOn
            ? new Routine("probe", "existence checks", "the directory already existed; the program carried on")
            : null;
}
