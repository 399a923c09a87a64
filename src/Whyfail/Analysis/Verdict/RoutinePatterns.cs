using Whyfail.Events;

namespace Whyfail.Analysis.Verdict;

/// <summary>The routine patterns, strongest evidence first, and the errno groups they share.</summary>
public static class RoutinePatterns
{
    public static readonly IReadOnlyList<IRoutinePattern> All =
    [
        new SearchFound(), new Fallback(), new TerminalProbe(), new NonBlockingWait(), new WaitLoop(), new LockRetry(), new DescriptorProbe(),
        new SearchShape(), new ExistenceCheck(), new AlreadyExists(), new OptionalFile(), new OptionalService(),
    ];

    /// <summary>Errors of a name lookup that a search moves past (the name is not here, or not reachable here).</summary>
    public static bool IsLookupMiss(int errno) => Decoding.Errno.Name(errno) is "ENOENT" or "ENOTDIR" or "EACCES" or "ELOOP" or "ENAMETOOLONG";

    /// <summary>The name is not there (nothing about permissions).</summary>
    public static bool IsAbsent(int errno) => Decoding.Errno.Name(errno) is "ENOENT" or "ENOTDIR";

    /// <summary>The first pattern that applies, and whether it is a strong one.</summary>
    public static (Routine? Routine, bool Strong) Judge(Tracked t, ProcessTrack process)
    {
        foreach (var p in All)
            if (p.Judge(t, process) is { } r) return (r, p.Strong);
        return (null, false);
    }
}
