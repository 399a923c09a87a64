using System.Runtime.InteropServices;
using Whyfail.Events;

namespace Whyfail.Analysis.Verdict;

/// <summary>One traced thread group as the verdict sees it: its failures (recent history), names it searched, how it ended.</summary>
public sealed class ProcessTrack(int pid)
{
    /// <summary>Failures kept per process for linking late messages and choosing culprits.</summary>
    public const int History = 512;

    public int Pid { get; } = pid;
    public string Comm { get; set; } = "";
    public List<Tracked> Failures { get; } = [];
    /// <summary>How many failures each final name had in this process (the shape of a search).</summary>
    public Dictionary<string, int> FailedNames { get; } = [];
    /// <summary>The places each failed name was tried in.</summary>
    public Dictionary<string, HashSet<string>> NamePlaces { get; } = [];
    /// <summary>Successful calls' (name, path, timestamp), for searches that succeeded elsewhere.</summary>
    public Dictionary<string, List<(string Path, ulong Ts)>> FoundNames { get; } = [];
    public ProcessExit? Exit { get; set; }
    /// <summary>Failures released as routine / not routine.</summary>
    public long Routine { get; set; }
    public long NotRoutine { get; set; }
    /// <summary>Failures that explain this process's bad end (set when it ends).</summary>
    public List<Tracked> Culprits { get; } = [];
    /// <summary>The culprits of its children that ended badly (the latest few), for its own bad end.</summary>
    public List<(ProcessTrack Child, Tracked T)> ChildCulprits { get; } = [];
    /// <summary>When its last call arrived (milliseconds on the tracker's clock).</summary>
    public long LastSeenMs { get; set; }
    /// <summary>Failures not yet judged.</summary>
    public int Pending { get; set; }
    /// <summary>Routine / not routine counts of descendants that were forgotten (see <see cref="FailureTracker"/>).</summary>
    public long InheritedRoutine { get; set; }
    public long InheritedNotRoutine { get; set; }
    /// <summary>Ended and judged: only what a verdict or a parent needs is kept.</summary>
    public bool Compacted { get; private set; }

    private int _trimAt = 2 * History;
    /// <summary>For culprits that happened in a descendant: the children that passed each one up, innermost first.</summary>
    public Dictionary<Tracked, List<ChildEnd>> CulpritVia { get; } = [];

    public void AddFailure(Tracked t)
    {
        Failures.Add(t);
        Pending++;
        // Past the mark, the released ones beyond the last History go in one pass; the next pass comes when the list
        // has grown by half again, at least History failures later (amortised O(1) per failure, however many a flood
        // holds pending: with 20,000 pending a pass every History failures walked 40 entries per failure, 3 % of the
        // consumer's CPU on a flood).
        if (Failures.Count > _trimAt)
        {
            TrimReleased(Failures.Count - History);
            _trimAt = Math.Max(2 * History, Failures.Count + Math.Max(History, Failures.Count / 2));
        }
        if (t.Subject.Name is { } name)
        {
            CollectionsMarshal.GetValueRefOrAddDefault(FailedNames, name, out _)++;
            // A repeat of the last failure (the same subject object: the capture shares it) is already in its places.
            if (ReferenceEquals(t.Subject, _lastPlaced) && NamePlaces.ContainsKey(name)) return;
            if (!NamePlaces.TryGetValue(name, out var places)) { NamePlaces[name] = places = []; Version++; }
            if (places.Count < 64 && places.Add(t.Subject.Place ?? "")) Version++;
            _lastPlaced = t.Subject;
        }
    }

    /// <summary>Removes the released failures among the first <paramref name="cut"/>, keeping the order (a plain loop: no
    /// predicate delegate called per entry).</summary>
    private void TrimReleased(int cut)
    {
        var list = Failures;
        var span = CollectionsMarshal.AsSpan(list);
        int kept = 0;
        for (int i = 0; i < span.Length; i++)
        {
            var f = span[i];
            if (i < cut && f.Released) continue;
            if (kept != i) span[kept] = f;
            kept++;
        }
        list.RemoveRange(kept, list.Count - kept);
    }

    /// <summary>
    /// Bumped whenever what the routine patterns read of the process (<see cref="NamePlaces"/>, <see cref="FoundNames"/>)
    /// changes: a routine answer remembered at one version holds while it stays the same.
    /// </summary>
    public int Version { get; private set; }

    /// <summary>The last routine answer <see cref="RoutinePatterns.JudgeRemembered"/> remembered for this process.</summary>
    internal RoutineMemo? Memo;

    private FailureSubject? _lastPlaced;

    /// <summary>After the end, once every failure is judged: keep the culprits, drop the history.</summary>
    public void Compact()
    {
        Failures.Clear();
        Failures.AddRange(Culprits);
        FailedNames.Clear();
        NamePlaces.Clear();
        FoundNames.Clear();
        ChildCulprits.Clear();
        Compacted = true;
        Version++;
        Memo = null;
    }

    public void AddSuccess(SyscallEvent ev, FailureSubject s)
    {
        if (s.Name is not { } name || s.Path is not { } path) return;
        if (!FoundNames.TryGetValue(name, out var list)) FoundNames[name] = list = [];
        if (list.Count < 16) { list.Add((path, ev.TimestampNs)); Version++; }
    }
}
