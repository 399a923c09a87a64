using Whyfail.Events;

namespace Whyfail.Analysis.Verdict;

/// <summary>
/// A check whether a path exists or may be used (access, stat family, statfs, readlink, getxattr) that said no:
/// the answer to the question asked. Only the shape: the exit it precedes can still make it a culprit.
/// </summary>
public sealed class ExistenceCheck : IRoutinePattern
{
    private static readonly HashSet<string> Checks =
        ["access", "faccessat", "faccessat2", "stat", "lstat", "newfstatat", "statx", "statfs", "readlink", "readlinkat", "getxattr", "lgetxattr"];

    public bool Strong => false;

    public Routine? Judge(Tracked t, ProcessTrack process)
    {
        var ev = t.Event;
        if (!Checks.Contains(ev.Syscall)) return null;
        bool answer = RoutinePatterns.IsAbsent(ev.Errno) || Decoding.Errno.Name(ev.Errno) == "EACCES"
            || (ev.Syscall.StartsWith("readlink", StringComparison.Ordinal) && Decoding.Errno.Name(ev.Errno) == "EINVAL")
            || (ev.Syscall.EndsWith("getxattr", StringComparison.Ordinal) && Decoding.Errno.Name(ev.Errno) is "ENODATA" or "EOPNOTSUPP");
        return answer ? new Routine("probe", "existence checks", $"{ev.Syscall} asked whether it exists or may be used") : null;
    }
}
