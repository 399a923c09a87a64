using Whyfail.Events;

namespace Whyfail.Analysis.Verdict;

/// <summary>
/// The shape of a search without a success seen: the same final name failed in several places in this
/// process (PATH, a library path, message catalogs in every locale spelling, sys.path entries).
/// </summary>
public sealed class SearchShape : IRoutinePattern
{
    public bool Strong => false;

    public Routine? Judge(Tracked t, ProcessTrack process)
    {
        if (!RoutinePatterns.IsLookupMiss(t.Event.Errno) || t.Subject.Name is not { } name) return null;
        if (!process.NamePlaces.TryGetValue(name, out var places) || places.Count < 2) return null;
        return new Routine("search", "searches", $"the same name was looked up in {places.Count} places (a search)");
    }
}
