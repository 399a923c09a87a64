using System.Collections.Concurrent;
using System.Diagnostics;
using Whyfail.Analysis.Origin;
using Whyfail.Analysis.Origin.Kernel;
using Whyfail.Analysis.Origin.Resolve;
using Whyfail.Capture.Origin;
using Whyfail.Events;
using Whyfail.Rendering;

namespace Whyfail.Tracing;

/// <summary>
/// Grows the watched set while tracing, on a thread of its own so that the command runs meanwhile:
/// <list type="bullet">
/// <item>with <c>--deep auto</c>, the rest of the default syscall set after what was attached before the command
/// started (a short time budget: the first calls of <see cref="OriginPlanner.First"/>'s graph), syscall by syscall;</item>
/// <item>the call graph of a syscall first seen failing that was not planned (with <c>-p</c>, <c>--system</c> and
/// <c>--deep auto</c>; not with an explicit <c>--deep LIST</c> for a command), computed in the background; a
/// planned syscall still waiting its turn is moved to the front when it fails;</item>
/// <item>functions seen on a failure's kernel stack between watched ones (reached through function pointers,
/// so invisible to the static call graph).</item>
/// </list>
/// Each failure is marked (<see cref="SyscallEvent.OriginMissed"/>) when its syscall's graph was not fully watched
/// when it failed. <see cref="Stop"/> ends the attaching at once (after the function being attached).
/// </summary>
public sealed class OriginGrowth
{
    /// <summary>At most this many functions are added while tracing (each costs attach time and per-call overhead),
    /// beyond the default set attached in the background.</summary>
    public const int MaxAdded = 1500;
    /// <summary>Functions taken from the call graph of one syscall first seen failing (at most --deep-budget).</summary>
    public const int PerSyscallBudget = 200;

    private readonly OriginAttacher _probes;
    private readonly OriginResolver _resolver;
    private readonly IRenderer _renderer;
    private readonly TraceSettings _settings;
    private readonly bool _growsBySyscall;
    private readonly IReadOnlyList<string>? _backgroundSet;

    // Polling thread only.
    private readonly HashSet<string> _claimed = new(StringComparer.Ordinal);  // failed or planned: judged once
    private readonly HashSet<string> _growing = new(StringComparer.Ordinal);  // planned or queued, not all attached yet
    private readonly Stopwatch _since = Stopwatch.StartNew();
    private bool _backgroundReported;

    // Shared with the attach thread and the planner.
    private readonly ConcurrentDictionary<string, ulong> _watchedSince = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _notices = new();
    private readonly ConcurrentQueue<string> _toPlan = new();
    private readonly Lock _attaching = new();
    private readonly Lock _work = new();
    private readonly LinkedList<Job> _urgent = new();       // failures first
    private readonly LinkedList<Job> _background = new();   // the rest of the default set, in order
    private readonly HashSet<string> _hurried = new(StringComparer.Ordinal); // failed before their turn
    private readonly CancellationTokenSource _cancel = new();
    private readonly SemaphoreSlim _ready = new(0);
    private Thread? _attacher;
    private int _planning, _setToPlan;
    private int _added, _inBackground, _backgroundLeft;
    private volatile bool _full;

    /// <param name="Why">For functions proposed by the resolver (no syscall): why they are watched now.</param>
    private sealed record Job(string? Syscall, IReadOnlyList<string> Functions, bool Grown, string? Why = null);

    /// <param name="watched">Syscalls whose call graph is fully attached already.</param>
    /// <param name="pending">Syscalls (with their functions) planned but not attached yet, in the order to attach them.</param>
    /// <param name="backgroundSet">--deep auto: the default set, planned in the background (its call graphs may not be cached yet).</param>
    public OriginGrowth(OriginAttacher probes, OriginResolver resolver, IRenderer renderer, TraceSettings settings,
        IEnumerable<string> watched, IReadOnlyList<(string Syscall, IReadOnlyList<string> Functions)> pending, IReadOnlyList<string>? backgroundSet)
    {
        _probes = probes;
        _resolver = resolver;
        _renderer = renderer;
        _settings = settings;
        _backgroundSet = backgroundSet;
        _growsBySyscall = settings.System || settings.Pids.Count > 0 || backgroundSet != null;
        foreach (var sc in watched)
        {
            _claimed.Add(sc);
            _watchedSince[sc] = 0;
        }
        foreach (var (sc, fns) in pending)
        {
            _claimed.Add(sc);
            _growing.Add(sc);
            _background.AddLast(new Job(sc, fns, false));
        }
        _backgroundLeft = _background.Count + (backgroundSet != null ? 1 : 0);
        if (backgroundSet != null)
        {
            foreach (var sc in backgroundSet.Where(sc => !_watchedSince.ContainsKey(sc)))
            {
                _claimed.Add(sc);
                _growing.Add(sc);
            }
        }
        if (_background.Count > 0) _ready.Release();
    }

    private int Budget => Math.Min(PerSyscallBudget, _settings.DeepBudget);

    /// <summary>Functions taken for the indirect calls of one uncertain origin (their BTF targets and what those call).</summary>
    public const int IndirectBudget = 150;

    // The BTF targets of indirect calls and the call graph below them: loaded on the first uncertain origin that
    // makes indirect calls, on a thread of their own (one at a time), kept for the next ones.
    private readonly Lock _indirectLock = new();
    private IndirectCallTargets? _targets;
    private CallGraph? _graph;

    /// <summary>
    /// Starts attaching in the background (call once tracing has started), and with --deep auto planning the default
    /// set: not before, as building a call graph that is not cached yet would hold the command's start.
    /// </summary>
    public void Start()
    {
        if (_backgroundSet != null) Plan(null);
        _attacher = new Thread(AttachLoop, 1 << 20) { IsBackground = true, Name = "whyfail origin growth" };
        _attacher.Start();
    }

    /// <summary>Called for each reported event (polling thread), after its origin was resolved.</summary>
    public void Saw(SyscallEvent ev)
    {
        if (!ev.Failed || ev.Syscall.Length == 0) return;
        string sc = ev.Syscall;
        if (_watchedSince.TryGetValue(sc, out ulong since) && since <= ev.TimestampNs) return;
        if (_claimed.Add(sc) && _growsBySyscall && !_full && !sc.StartsWith("syscall_", StringComparison.Ordinal))
        {
            _growing.Add(sc);
            Plan(sc);
        }
        else if (_growing.Contains(sc))
            Hurry(sc);
        ev.OriginMissed = _growing.Contains(sc) ? OriginMiss.NotWatchedYet : OriginMiss.NotWatched;
    }

    /// <summary>Queues a syscall's call graph to compute (null: --deep auto's default set, after the failures).</summary>
    private void Plan(string? sc)
    {
        if (sc is null) Volatile.Write(ref _setToPlan, 1);
        else _toPlan.Enqueue(sc);
        if (Interlocked.CompareExchange(ref _planning, 1, 0) == 0)
            new Thread(() => { Background(); PlanQueued(); }, 1 << 20) { IsBackground = true, Name = "whyfail origin planner" }.Start();
    }

    /// <summary>A planned syscall failed before its turn: it goes first.</summary>
    private void Hurry(string sc)
    {
        lock (_work)
        {
            _hurried.Add(sc); // for a job not queued yet (the default set still being planned)
            for (var n = _background.First; n != null; n = n.Next)
                if (n.Value.Syscall == sc)
                {
                    _background.Remove(n);
                    _urgent.AddFirst(n.Value);
                    _ready.Release();
                    return;
                }
        }
    }

    /// <summary>One planner at a time (a call graph built on a cache miss is large): the syscalls first seen failing first.</summary>
    private void PlanQueued()
    {
        do
        {
            while (!_cancel.IsCancellationRequested)
            {
                if (_toPlan.TryDequeue(out var first))
                {
                    var batch = new List<string> { first };
                    while (_toPlan.TryDequeue(out var more)) batch.Add(more);
                    var plan = OriginPlanner.Make(batch, Budget * batch.Count, _notices.Enqueue, _settings.Vmlinux);
                    foreach (var sc in batch)
                    {
                        var fns = plan.PerSyscall.FirstOrDefault(p => p.Syscall == sc).Functions ?? [];
                        Enqueue(new Job(sc, fns.Take(Budget).ToList(), true), urgent: true);
                    }
                }
                else if (Interlocked.Exchange(ref _setToPlan, 0) == 1)
                    PlanBackgroundSet();
                else
                    break;
            }
            Volatile.Write(ref _planning, 0);
        }
        while ((!_toPlan.IsEmpty || Volatile.Read(ref _setToPlan) == 1) && !_cancel.IsCancellationRequested
               && Interlocked.CompareExchange(ref _planning, 1, 0) == 0);
    }

    /// <summary>--deep auto: the default set's call graphs (from the cache, or computed now), queued after what is there.</summary>
    private void PlanBackgroundSet()
    {
        var plan = OriginPlanner.Make(_backgroundSet!, _settings.DeepBudget, _notices.Enqueue, _settings.Vmlinux);
        lock (_work)
        {
            foreach (var (sc, fns) in plan.PerSyscall)
            {
                // Watched already, or queued (up front's remainder, a failure's): that job stands; the others in order.
                if (_watchedSince.ContainsKey(sc) || _urgent.Concat(_background).Any(j => j.Syscall == sc)) continue;
                if (_hurried.Contains(sc)) _urgent.AddLast(new Job(sc, fns, false));
                else _background.AddLast(new Job(sc, fns, false));
                _backgroundLeft++;
            }
            foreach (var sc in _backgroundSet!.Except(plan.Syscalls))
                _watchedSince.TryAdd(sc, 0); // not on this kernel: nothing to wait for
            _backgroundLeft--;
        }
        _ready.Release();
    }

    private void Enqueue(Job job, bool urgent)
    {
        lock (_work) (urgent ? _urgent : _background).AddLast(job);
        _ready.Release();
    }

    /// <summary>
    /// The planner and the attacher run at the lowest priority (nice 19, this thread only): building a call graph that is
    /// not cached costs seconds of CPU, which the command (just released) and, when it has ended, whyfail's report and
    /// exit must not wait for, least of all on a machine with few CPUs.
    /// </summary>
    private static void Background() =>
        Capture.Native.Libc.SetPriority(PrioProcess, (uint)Capture.Native.Libc.GetTid(), 19);

    private static readonly int PrioProcess = (int)Decoding.Xlat.Table("priority_which")["PRIO_PROCESS"];

    private void AttachLoop()
    {
        Background();
        var token = _cancel.Token;
        try
        {
            while (!token.IsCancellationRequested)
            {
                _ready.Wait(token);
                while (!token.IsCancellationRequested && Next() is { } job)
                {
                    if (job.Grown && _full) continue;
                    var sw = Stopwatch.StartNew();
                    var names = job.Grown ? job.Functions.Take(MaxAdded - _added).ToList() : job.Functions;
                    IReadOnlyList<string> added;
                    lock (_attaching) added = _probes.Add(names, token);
                    if (token.IsCancellationRequested) break;
                    if (job.Syscall is { } sc) _watchedSince.TryAdd(sc, Now());
                    if (job.Grown)
                    {
                        _added += names.Count;
                        if (_added >= MaxAdded) _full = true;
                    }
                    else
                    {
                        _inBackground += added.Count;
                        lock (_work) _backgroundLeft--;
                    }
                    Report(job, added, sw.Elapsed);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private Job? Next()
    {
        lock (_work)
        {
            var list = _urgent.Count > 0 ? _urgent : _background;
            if (list.First is not { } first) return null;
            list.RemoveFirst();
            return first.Value;
        }
    }

    private void Report(Job job, IReadOnlyList<string> added, TimeSpan took)
    {
        if (job.Syscall is null)
        {
            if (added.Count > 0)
                _notices.Enqueue($"kernel origins: now also watching {string.Join(", ", added.Take(12))}{(added.Count > 12 ? $" and {added.Count - 12} more" : "")} ({job.Why})");
        }
        else if (job.Grown)
        {
            if (job.Functions.Count > 0)
                _notices.Enqueue($"kernel origins: {job.Syscall} failed for the first time: now watching {added.Count} more functions of its call graph " +
                    $"(attached in {took.TotalMilliseconds:0} ms), so its later failures have an origin");
            if (_full)
                _notices.Enqueue($"kernel origins: {MaxAdded} functions added while tracing; no more will be (use --deep for the syscalls that matter)");
        }
    }

    private static ulong Now() => KernelClock.NowNs();

    /// <summary>Reports what the background found and attached (polling thread).</summary>
    public void Step()
    {
        while (_notices.TryDequeue(out var n)) _renderer.Notice(n);
        Take(_resolver.Unwatched, "seen between watched functions on the kernel stack of a failure; later occurrences confirm the origin");
        Take(_resolver.DeeperCallees, "called by an origin that may be deeper; later occurrences go down into them");
        while (!_full && _resolver.IndirectCalls.TryDequeue(out var call))
            Task.Run(() => ZoomIndirect(call.Origin, call.Syscall, call.Prefixes));
        if (!_backgroundReported && _backgroundSet != null && Volatile.Read(ref _backgroundLeft) == 0)
        {
            _backgroundReported = true;
            _renderer.Notice($"kernel origins: the default syscall set is watched: {_probes.Functions.Count} functions in all, " +
                $"{_inBackground} of them attached in the background while the command ran ({_since.Elapsed.TotalMilliseconds:0} ms)");
        }
    }

    /// <summary>
    /// Zooms in through the indirect calls of an uncertain origin: the functions BTF says those calls can reach (an
    /// operations table's prototype) that belong to the failure's file system or socket family, and below them what
    /// they call (staying in that code), within <see cref="IndirectBudget"/>; queued to be attached first.
    /// </summary>
    private void ZoomIndirect(string origin, string syscall, IReadOnlyList<string> prefixes)
    {
        try
        {
            var sw = Stopwatch.StartNew();
            List<string> names;
            int roots;
            lock (_indirectLock)
            {
                if (_cancel.IsCancellationRequested) return;
                _targets ??= new IndirectCallTargets(BtfTypeTable.Running);
                _graph ??= CallGraph.ForRunningKernel(_settings.Vmlinux);
                var targets = _targets.Named(prefixes);
                roots = targets.Count;
                var opts = new CallGraphOptions { MaxDepth = 5, MaxFunctions = IndirectBudget * 2, MaxVisited = 4000, FollowOnly = prefixes, AddIndirectFamilies = false };
                var watched = new HashSet<string>(_probes.Functions, StringComparer.Ordinal);
                names = _graph.ExploreFrom(syscall, targets, opts).Names.Where(n => !watched.Contains(n)).Take(IndirectBudget).ToList();
                if (_cancel.IsCancellationRequested)
                {
                    CloseGraph(); // Stop did not wait for this zoom
                    return;
                }
            }
            if (names.Count == 0) return;
            _resolver.Proposed(names, "btf_targets");
            Enqueue(new Job(null, names, true, $"reachable from the indirect calls of {origin} in a failing {syscall}: " +
                $"{roots} functions with an operations table's prototype named {string.Join("/", prefixes.Select(p => p + "*"))} (BTF) and what they call; " +
                $"found in {sw.Elapsed.TotalMilliseconds:0} ms"), urgent: true);
        }
        catch (Exception e) when (e is KernelAnalysisException or IOException or UnauthorizedAccessException)
        {
            _notices.Enqueue($"kernel origins: the indirect calls of {origin} could not be followed: {e.Message}");
        }
    }

    /// <summary>Closes the call graph of the indirect-call zooms (under <see cref="_indirectLock"/>).</summary>
    private void CloseGraph()
    {
        _graph?.Dispose();
        _graph = null;
    }

    /// <summary>Queues the functions the resolver proposed (and forgets the proposal), to be attached first.</summary>
    private void Take(HashSet<string> proposed, string why)
    {
        if (proposed.Count == 0) return;
        var names = proposed.ToList();
        proposed.Clear();
        if (!_full) Enqueue(new Job(null, names, true, why), urgent: true);
    }

    /// <summary>
    /// Stops attaching at once (the command has exited, or the session stops): the function being attached is
    /// the last; a call graph still being computed is left to finish on its own (nothing attaches it). What was
    /// attached stays in the attacher, for the caller to detach or hand to the reaper.
    /// </summary>
    public void Stop()
    {
        if (_cancel.IsCancellationRequested) return;
        _cancel.Cancel();
        // The attach in progress ends after its current function; nothing attaches after it (Add sees the cancel).
        lock (_attaching) { }
        Step();
        // A zoom still building its call graph (seconds in an emulated CPU) must not hold the prompt: it sees the cancel
        // when it ends and closes the graph itself.
        if (_indirectLock.TryEnter())
        {
            try { CloseGraph(); }
            finally { _indirectLock.Exit(); }
        }
        if (!_backgroundReported && _backgroundSet != null)
            _renderer.Notice($"kernel origins: the command ended while attaching in the background: {_probes.Functions.Count} functions watched, " +
                $"{_inBackground} of them attached while it ran ({_since.Elapsed.TotalMilliseconds:0} ms); the rest of the default set was not attached");
    }
}
