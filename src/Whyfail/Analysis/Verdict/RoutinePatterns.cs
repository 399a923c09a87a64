using Whyfail.Events;

namespace Whyfail.Analysis.Verdict;

/// <summary>The routine patterns, strongest evidence first, and the errno groups they share.</summary>
public static class RoutinePatterns
{
    public static IReadOnlyList<IRoutinePattern> All => Patterns;

    // An array walked with an index: a foreach over the interface list allocated an enumerator per failure judged.
    private static readonly IRoutinePattern[] Patterns =
    [
        new SearchFound(), new Fallback(), new TerminalProbe(), new MessageCatalog(), new CapabilityProbe(), new NonBlockingWait(),
        new WaitLoop(), new LockRetry(), new DescriptorProbe(),
        new SearchShape(), new ExistenceCheck(), new AlreadyExists(), new OptionalFile(), new OptionalService(),
    ];

    /// <summary>Errors of a name lookup that a search moves past (the name is not here, or not reachable here).</summary>
    public static bool IsLookupMiss(int errno) => Decoding.Errno.Name(errno) is "ENOENT" or "ENOTDIR" or "EACCES" or "ELOOP" or "ENAMETOOLONG";

    /// <summary>The name is not there (nothing about permissions).</summary>
    public static bool IsAbsent(int errno) => Decoding.Errno.Name(errno) is "ENOENT" or "ENOTDIR";

    /// <summary>
    /// The routine answer of <see cref="Judge(Tracked, ProcessTrack)"/>, remembered per process: a flood of one failure
    /// (the same call, arguments, subject, nothing done after it yet) gets the answer its last repeat got while the
    /// process's <see cref="ProcessTrack.Version"/> is the same, instead of the fourteen patterns again (issue 16.3).
    /// Only failures whose answer rests on nothing else are remembered or answered so: no success after them, no exec
    /// search that succeeded, and no success of their name elsewhere (<see cref="SearchFound"/> compares times then).
    /// </summary>
    public static Routine? JudgeRemembered(Tracked t, ProcessTrack process)
    {
        bool alone = t.SuccessesAfter.Count == 0 && !t.BecameSearchedProgram;
        if (alone && process.Memo is { } m && m.Version == process.Version && m.Matches(t)) return m.Routine;
        var routine = Judge(t, process).Routine;
        if (alone && (t.Subject.Name is not { } name || !process.FoundNames.ContainsKey(name)))
            (process.Memo ??= new RoutineMemo()).Keep(t, process.Version, routine);
        return routine;
    }

    /// <summary>The first pattern that applies, and whether it is a strong one.</summary>
    public static (Routine? Routine, bool Strong) Judge(Tracked t, ProcessTrack process)
    {
        foreach (var p in Patterns)
            if (p.Judge(t, process) is { } r) return (r, p.Strong);
        return (null, false);
    }
}

/// <summary>
/// What the routine patterns read of a failure that did nothing after it (see <see cref="RoutinePatterns.JudgeRemembered"/>),
/// and the answer they gave. The capture and decoding share a repeat's arguments, argument memory, decoded strings and
/// subject (equal by reference), so a repeat is known by reference.
/// </summary>
internal sealed class RoutineMemo
{
    private string _syscall = "";
    private long _ret;
    private ulong[]? _args;
    private IReadOnlyList<CapturedArg>? _captured;
    private IReadOnlyList<string>? _decoded;
    private FailureSubject? _subject;
    private bool _carriedOn;
    public int Version { get; private set; }
    public Routine? Routine { get; private set; }

    public bool Matches(Tracked t)
    {
        var ev = t.Event;
        return ReferenceEquals(t.Subject, _subject) && ReferenceEquals(ev.Args, _args) && ReferenceEquals(ev.Captured, _captured) &&
            ReferenceEquals(ev.DecodedArgs, _decoded) && ev.Ret == _ret && t.ThreadCarriedOn == _carriedOn &&
            string.Equals(ev.Syscall, _syscall, StringComparison.Ordinal);
    }

    public void Keep(Tracked t, int version, Routine? routine)
    {
        var ev = t.Event;
        (_syscall, _ret, _args, _captured, _decoded) = (ev.Syscall, ev.Ret, ev.Args, ev.Captured, ev.DecodedArgs);
        (_subject, _carriedOn, Version, Routine) = (t.Subject, t.ThreadCarriedOn, version, routine);
    }
}
