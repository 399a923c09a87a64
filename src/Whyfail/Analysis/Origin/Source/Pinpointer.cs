using Whyfail.Capture.Origin;
using Whyfail.Decoding;
using Whyfail.Events;

namespace Whyfail.Analysis.Origin.Source;

/// <summary>
/// --pinpoint: when a failure's origin has several candidate error sites, kprobes are armed on the
/// instructions that stand for them (growth: on the polling thread, between batches, see <see cref="Step"/>);
/// a later failure with the same origin function and errno gets the site whose kprobe fired during the
/// call — the stock-kernel equivalent of an ERR() macro at every return.
/// </summary>
public sealed class Pinpointer(SourceLines lines, SiteKprobes probes, Action<string> notice)
{
    /// <summary>Kprobes armed at most in one session (each costs a trap on every pass through its instruction).</summary>
    public const int MaxProbes = 1000;
    /// <summary>Instructions probed at most for one (function, errno).</summary>
    public const int MaxPerOrigin = 200;

    private enum State { Queued, Armed, Failed }

    private readonly Dictionary<(string Function, int Errno), State> _origins = new();
    private readonly Queue<(string Function, int Errno)> _queue = new();
    /// <summary>By cookie: the (function, errno) a kprobe belongs to and the site probe points at its address.</summary>
    private readonly Dictionary<int, ((string, int) Origin, List<SiteProbe> Points)> _byCookie = new();
    private int _armed;
    private bool _full;

    /// <summary>
    /// Called for each analysed failure (after <see cref="SourceLines.Annotate"/>): an origin with candidate sites
    /// is queued for arming the first time; once armed, the site that fired during this call replaces the candidates.
    /// </summary>
    public void Apply(SyscallEvent ev)
    {
        var o = ev.Origin;
        if (o is null || o.SiteKind != "candidates") return;
        int errno = ev.KernelErrno != 0 ? ev.KernelErrno : ev.Errno;
        var key = (o.Function, errno);
        if (!_origins.TryGetValue(key, out var state))
        {
            if (_full) return;
            _origins[key] = State.Queued;
            _queue.Enqueue(key);
            return;
        }
        if (state != State.Armed) return;
        var result = lines.Sites.Find(o.Function, errno);
        if (result is null) return;
        // The last hit wins. Hits are in firing order, and an error site that was taken earlier in the same
        // call belongs to an earlier invocation whose error did not end the call (a path walk retried with
        // LOOKUP_REVAL, a caller that tried something else): the error the syscall returned came from the
        // last site taken before the return.
        for (int k = ev.SiteHits.Count - 1; k >= 0; k--)
        {
            var hit = ev.SiteHits[k];
            if (!_byCookie.TryGetValue(hit.Probe, out var armed) || armed.Origin != key) continue;
            var taken = armed.Points.Where(p => p.Taken(hit.Flags) && p.Site < result.Sites.Count).Select(p => p.Site).Distinct().ToList();
            if (taken.Count == 0) continue; // a branch that went the other way: the check passed
            o.Pinpointed = true;
            o.Sites = taken.Select(s => result.Sites[s]).ToList();
            if (taken.Count > 1) return; // one instruction stands for several lines: narrowed, not exact
            o.SiteKind = "exact";
            var f = o.Sites[0].Frames[0];
            o.Frames = o.Sites[0].Frames;
            o.Snippet = lines.Source?.Snippet(f.File, f.Line);
            return;
        }
    }

    /// <summary>Arms the kprobes of the origins queued since the last call (polling thread).</summary>
    public void Step()
    {
        while (_queue.TryDequeue(out var key))
        {
            var result = lines.Sites.Find(key.Function, key.Errno);
            if (result is null || result.Probes.Count == 0)
            {
                _origins[key] = State.Failed;
                continue;
            }
            var byAddress = result.Probes.GroupBy(p => p.Address).Take(MaxPerOrigin).ToList();
            if (_armed + byAddress.Count > MaxProbes)
            {
                _origins[key] = State.Failed;
                _full = true;
                notice($"pinpoint: {MaxProbes} error-site kprobes armed; no more will be ({key.Function} stays with its candidates)");
                continue;
            }
            int refusedBefore = probes.Refused, ok = 0;
            foreach (var g in byAddress)
            {
                if (probes.Add(unchecked(g.Key + (ulong)lines.DebugInfo.Slide)) is not { } cookie) continue;
                _byCookie[cookie] = (key, g.ToList());
                ok++;
            }
            _armed += ok;
            int refused = probes.Refused - refusedBefore;
            _origins[key] = ok > 0 ? State.Armed : State.Failed;
            string errno = Errno.Name(key.Errno) ?? key.Errno.ToString();
            string refusal = refused > 0 ? $"; {refused} refused by the kernel ({probes.LastRefusal})" : "";
            notice(ok > 0
                ? $"pinpoint: armed {ok} kprobes on the {result.Sites.Count} candidate error sites of {key.Function} ({errno}){refusal}; its later {errno} failures name the site that fired"
                : $"pinpoint: the kernel refused every kprobe on the error sites of {key.Function} ({errno}){refusal}; it stays with its candidates");
        }
    }
}
