using System.Collections.Concurrent;
using Whyfail.Analysis.Origin;
using Whyfail.Analysis.Origin.Resolve;
using Whyfail.Capture.Origin;
using Whyfail.Events;
using Whyfail.Rendering;

namespace Whyfail.Tracing;

/// <summary>
/// Grows the watched set while tracing, so that later occurrences of a failure get a confirmed origin:
/// functions seen on a failure's kernel stack between watched ones (reached through function pointers,
/// so invisible to the static call graph), and — for -p and --system — the call graph of a syscall
/// first seen failing that was not planned at start (computed in the background, within a budget).
/// Everything is attached on the polling thread, between batches of events.
/// </summary>
public sealed class OriginGrowth(OriginAttacher probes, OriginResolver resolver, IRenderer renderer, TraceSettings settings, IReadOnlyCollection<string> planned)
{
    /// <summary>At most this many functions are added while tracing (each costs attach time and per-call overhead).</summary>
    public const int MaxAdded = 1500;
    /// <summary>Functions taken from the call graph of one syscall first seen failing.</summary>
    public const int PerSyscallBudget = 200;

    private readonly HashSet<string> _syscallsSeen = new(planned, StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _notices = new();
    private readonly ConcurrentQueue<(string Syscall, IReadOnlyList<string> Functions)> _plans = new();
    private readonly ConcurrentQueue<string> _toPlan = new();
    private Task? _planner;
    private int _added;
    private bool _full;

    private bool GrowsBySyscall => settings.System || settings.Pids.Count > 0;

    /// <summary>Called for each reported event (polling thread).</summary>
    public void Saw(SyscallEvent ev)
    {
        if (!ev.Failed || !GrowsBySyscall || _full || ev.Syscall.Length == 0 || ev.Syscall.StartsWith("syscall_", StringComparison.Ordinal)) return;
        if (!_syscallsSeen.Add(ev.Syscall)) return;
        _toPlan.Enqueue(ev.Syscall);
        if (_planner is null or { IsCompleted: true })
            _planner = Task.Run(PlanQueued);
    }

    private void PlanQueued()
    {
        while (_toPlan.TryDequeue(out var sc))
        {
            var plan = OriginPlanner.Make([sc], PerSyscallBudget, _notices.Enqueue, settings.Vmlinux);
            _plans.Enqueue((sc, plan.Functions));
        }
    }

    /// <summary>Attaches what was found since the last call (polling thread).</summary>
    public void Step()
    {
        while (_notices.TryDequeue(out var n)) renderer.Notice(n);
        Take(resolver.Unwatched, "seen between watched functions on the kernel stack of a failure; later occurrences confirm the origin");
        Take(resolver.DeeperCallees, "called by an origin that may be deeper; later occurrences go down into them");
        while (_plans.TryDequeue(out var p))
        {
            if (p.Functions.Count == 0) continue;
            var added = Add(p.Functions);
            renderer.Notice($"kernel origins: {p.Syscall} failed for the first time: now watching {added.Count} more functions of its call graph, so its later failures have an origin");
        }
    }

    /// <summary>Watches the functions the resolver proposed (and forgets the proposal), with a notice saying why.</summary>
    private void Take(HashSet<string> proposed, string why)
    {
        if (proposed.Count == 0) return;
        var names = proposed.ToList();
        proposed.Clear();
        var added = Add(names);
        if (added.Count > 0)
            renderer.Notice($"kernel origins: now also watching {string.Join(", ", added)} ({why})");
    }

    private IReadOnlyList<string> Add(IReadOnlyList<string> names)
    {
        if (_full) return [];
        var take = names.Take(MaxAdded - _added).ToList();
        var added = probes.Add(take);
        _added += take.Count;
        if (_added >= MaxAdded)
        {
            _full = true;
            renderer.Notice($"kernel origins: {MaxAdded} functions added while tracing; no more will be (use --deep for the syscalls that matter)");
        }
        return added;
    }

    /// <summary>Waits for a background plan still running (so it does not outlive the session).</summary>
    public void Finish() => _planner?.Wait(TimeSpan.FromSeconds(30));
}
