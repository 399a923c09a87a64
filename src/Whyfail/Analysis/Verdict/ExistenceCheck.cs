using Whyfail.Events;

namespace Whyfail.Analysis.Verdict;

/// <summary>A check whether a path exists (access, stat family, statfs, readlink) that said no, after which the thread carried on.</summary>
public sealed class ExistenceCheck : IRoutinePattern
{
    private static readonly HashSet<string> Checks =
        ["access", "faccessat", "faccessat2", "stat", "lstat", "newfstatat", "statx", "statfs", "readlink", "readlinkat", "getxattr", "lgetxattr"];

    public bool Strong => false;

    public Routine? Judge(Tracked t, ProcessTrack process)
    {
        var ev = t.Event;
        if (!Checks.Contains(ev.Syscall) || !t.ThreadCarriedOn) return null;
        bool answer = RoutinePatterns.IsAbsent(ev.Errno)
            || (ev.Syscall.StartsWith("readlink", StringComparison.Ordinal) && Decoding.Errno.Name(ev.Errno) == "EINVAL")
            || (ev.Syscall.EndsWith("getxattr", StringComparison.Ordinal) && Decoding.Errno.Name(ev.Errno) is "ENODATA" or "EOPNOTSUPP");
        return answer ? new Routine("probe", "existence checks", $"{ev.Syscall} asked whether it exists; the program carried on") : null;
    }
}
