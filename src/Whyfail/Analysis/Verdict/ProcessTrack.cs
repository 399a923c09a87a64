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
    /// <summary>For culprits that happened in a descendant: the children that passed each one up, innermost first.</summary>
    public Dictionary<Tracked, List<ChildEnd>> CulpritVia { get; } = [];

    public void AddFailure(Tracked t)
    {
        Failures.Add(t);
        if (Failures.Count > History)
        {
            // Drop the oldest released one; pending ones stay until judged.
            int i = Failures.FindIndex(f => f.Released);
            if (i >= 0) Failures.RemoveAt(i);
        }
        if (t.Subject.Name is { } name)
        {
            FailedNames[name] = FailedNames.GetValueOrDefault(name) + 1;
            if (!NamePlaces.TryGetValue(name, out var places)) NamePlaces[name] = places = [];
            if (places.Count < 64) places.Add(t.Subject.Place ?? "");
        }
    }

    public void AddSuccess(SyscallEvent ev, FailureSubject s)
    {
        if (s.Name is not { } name || s.Path is not { } path) return;
        if (!FoundNames.TryGetValue(name, out var list)) FoundNames[name] = list = [];
        if (list.Count < 16) list.Add((path, ev.TimestampNs));
    }
}
