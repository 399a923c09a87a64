using Whyfail.Events;
using static Whyfail.Analysis.Explain.Words;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// ENOENT on a name that the same process has just looked for, and missed, in other directories (a shell's search
/// through PATH, a library or module path): every directory it tried, in order, from the failures themselves. Each
/// miss is also explained on its own (path.missing_component); this says that the search as a whole found nothing.
/// </summary>
public sealed class PathSearch : IExplainRule
{
    public string Id => "path.search";

    /// <summary>How far back, in the kernel's event time, a miss still belongs to the same search.</summary>
    private const ulong Window = 2_000_000_000;
    private const int PerProcess = 64, Processes = 1024;

    // pid -> the latest misses (directory, name, time); the rules run on one thread, in event order
    private readonly Dictionary<int, List<(string Dir, string Name, ulong Ts)>> _misses = [];
    private readonly Lock _lock = new();
    private ulong _sweptTs;

    /// <summary>Processes whose recent misses are kept.</summary>
    public int ProcessesKept
    {
        get { lock (_lock) return _misses.Count; }
    }

    // (a search is told by time: an event without the kernel's time stamp cannot be placed in one)
    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.ENOENT && ev.TimestampNs != 0 && SyscallArgs.Paths(ev).Count > 0;

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        var path = SyscallArgs.Paths(ev)[0].Path;
        int slash = path.LastIndexOf('/');
        if (slash < 0 || slash == path.Length - 1 || !path.StartsWith('/')) yield break;
        string dir = slash == 0 ? "/" : path[..slash], name = path[(slash + 1)..];
        List<string> dirs;
        lock (_lock)
        {
            if (!_misses.TryGetValue(ev.Pid, out var list))
            {
                // Searches whose last miss is a window old are over: a long --system session meets a new process every
                // moment, and each kept its misses (up to 64) until the 1,024th; bench/soak saw ~16 MB build up so.
                if (ev.TimestampNs > _sweptTs + Window)
                {
                    _sweptTs = ev.TimestampNs;
                    foreach (var (pid, misses) in _misses)
                        if (misses.Count == 0 || ev.TimestampNs > misses[^1].Ts + Window) _misses.Remove(pid);
                }
                if (_misses.Count >= Processes) _misses.Clear();
                _misses[ev.Pid] = list = [];
            }
            list.RemoveAll(m => ev.TimestampNs < m.Ts || ev.TimestampNs - m.Ts > Window);
            // the rules may run twice on one event (the process exited meanwhile): one entry per place
            if (!list.Any(m => m.Dir == dir && m.Name == name && m.Ts == ev.TimestampNs))
            {
                if (list.Count >= PerProcess) list.RemoveAt(0);
                list.Add((dir, name, ev.TimestampNs));
            }
            dirs = list.Where(m => m.Name == name).Select(m => m.Dir).Distinct().ToList();
        }
        if (dirs.Count < 2) yield break;
        // this directory last: the search ended here
        dirs.Remove(dir);
        dirs.Add(dir);
        if (Upward(dirs))
        {
            // each directory the parent of the one before: a marker looked for upward (git's .git, a project's file)
            yield return new Explanation(Id,
                $"pid {ev.Pid} looked for {Q(name)} in {Q(dirs[0])} and in each directory above it up to {Q(dirs[^1])}, and none had it",
                $"run it from a directory that has {Sh(name)}, or from one below it; or create {Sh(name)} where it belongs");
            yield break;
        }
        yield return new Explanation(Id,
            $"pid {ev.Pid} looked for {Q(name)} in {dirs.Count} directories, one after the other, and none had it: {string.Join(", ", dirs.Select(Q))}",
            ev.Syscall is "execve" or "execveat" or "stat" or "newfstatat" or "statx" or "access" or "faccessat" or "faccessat2"
                ? $"check the name; if {Sh(name)} is installed elsewhere, add its directory to the search path (PATH for commands), else install it"
                : "check the name, or add the directory that has it to the search path");
    }

    /// <summary>Every directory is the parent of the one before it (at least two).</summary>
    private static bool Upward(List<string> dirs)
    {
        for (int i = 0; i + 1 < dirs.Count; i++)
        {
            string d = dirs[i];
            int slash = d.LastIndexOf('/');
            string parent = slash <= 0 ? "/" : d[..slash];
            if (d == "/" || parent != dirs[i + 1]) return false;
        }
        return dirs.Count >= 2;
    }
}
