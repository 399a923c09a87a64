using Whyfail.Events;

namespace Whyfail.Analysis.Verdict;

/// <summary>
/// A search that succeeded: the same final name was then found in another place (a library path, PATH,
/// a locale directory…), or a failed exec's program name later ran in the same thread.
/// </summary>
public sealed class SearchFound : IRoutinePattern
{
    public bool Strong => true;

    public Routine? Judge(Tracked t, ProcessTrack process)
    {
        var ev = t.Event;
        if (!RoutinePatterns.IsLookupMiss(ev.Errno) || t.Subject.Name is not { } name) return null;
        if (t.BecameSearchedProgram)
            return new Routine("search", "searches", $"the program {name} was then found in another directory and run");
        if (process.FoundNames.TryGetValue(name, out var found))
            foreach (var (path, ts) in found)
                if (ts > ev.TimestampNs && path != t.Subject.Path)
                    return new Routine("search", "searches", $"the same name was then found at {path}");
        return null;
    }
}
