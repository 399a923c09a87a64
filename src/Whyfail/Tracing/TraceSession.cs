using System.Diagnostics;
using System.Runtime.InteropServices;
using Whyfail.Analysis;
using Whyfail.Analysis.Origin;
using Whyfail.Analysis.Origin.Kernel;
using Whyfail.Analysis.Origin.Resolve;
using Whyfail.Analysis.Origin.Source;
using Whyfail.Capture;
using Whyfail.Capture.Origin;
using Whyfail.Capture.Native;
using Whyfail.Decoding;
using Whyfail.Events;
using Whyfail.Rendering;

namespace Whyfail.Tracing;

/// <summary>
/// One run of whyfail: capture (kernel) → events → analysis → rendering. Owns every kernel object
/// it creates and releases them on any exit path.
/// </summary>
public sealed class TraceSession(TraceSettings settings, TextWriter stderr)
{
    private volatile bool _reopen;
    private bool ReopensOnHup => settings.OutputFile != null;
    private Process? _child;
    private GuardedOutput? _output;
    private Task<Kallsyms>? _kallsyms;
    private KernelCallees? _callees;  // made and warmed by the resolver's reads
    private BtfReturnKinds? _returnKinds;
    private Task? _resolverReads;     // kallsyms and the kernel's BTF both read
    private bool _resolverPending;    // origin probes attached, the resolver not made yet (the loop does not wait for it)
    private readonly Queue<Action> _held = new(); // what arrived since the first failure while it was pending, in order
    private const int MaxHeldForResolver = 20_000; // beyond this many held, the loop waits for the resolver (as it always did before)
    private bool _heldNeedsResolver;  // a held failure has origin records

    public int Run()
    {
        // Validate everything that can be checked without the kernel first: fast, clear errors.
        var target = SessionHost.Resolve(settings.Command, settings.Pids, settings.User);
        if (settings.KernelSrc != null && !Directory.Exists(settings.KernelSrc) && !File.Exists(settings.KernelSrc))
            throw new WhyfailException($"--kernel-src {settings.KernelSrc}: no such directory or tarball", ExitCodes.Usage);

        using var renderer = CreateRenderer();
        var pipeline = new AnalysisPipeline(new AnalysisOptions(settings.Explain, settings.StringLimit));
        using var injector = Inject.Injector.Create(settings.Inject);
        // Deny rules: loaded (verified) before the trace, so that a kernel without BPF LSM is said at once; attached below.
        using var deny = settings.Deny.Count > 0 ? Deny.DenyMatcher.Load(settings.Deny) : null;
        StartupTimes.Mark("settings checked");
        var origins = PlanOrigins(renderer);
        StartupTimes.Mark("origins planned");
        if (ResolverTiming == ResolverReads.BesideTheLoad) StartResolverReads(origins);
        // The launcher (whyfail itself, held before exec) starts now so that its start-up overlaps loading the
        // BPF programs; killed if the session fails before releasing it. SIGHUP with -o FILE and no command
        // reopens the file (log rotation of a long --system or -p session).
        using var host = SessionHost.Start(target, injector?.Filter, onHangup: ReopensOnHup ? () => _reopen = true : null);
        _child = host.Child;
        StartupTimes.Mark("launcher started");
        using var capture = OpenCapture(origins);
        StartupTimes.Mark("programs loaded and attached");
        foreach (var l in capture.Limitations) renderer.Notice(l);
        pipeline.Backlog = () => capture.Backlog;
        var run = new RunState(renderer, pipeline, new EventFilter(settings), new TraceSummary { Print = settings.Summary }, injector, deny, host, capture, origins);
        // The origin resolver (kallsyms, the kernel's text, source lines) is made once its reads are done, after the
        // command's release, without holding the loop (see Trace). --pinpoint needs it (and its source lines) to place
        // its kprobes before the command starts.
        if (settings.Pinpoint)
        {
            MakeResolver(run);
            pipeline.Pinpoint = PinpointSetup.Make(capture, run.SourceLines, renderer.Notice);
        }

        string? noAudit = null;
        using var audit = settings.Explain ? Analysis.Evidence.AuditListener.Start(out noAudit) : null;
        if (noAudit is not null) renderer.Notice($"no LSM denial evidence: {noAudit}");
        pipeline.Audit = audit;
        using var metrics = settings.Metrics is { } endpoint ? Metrics.FailureMetrics.Start(endpoint) : null;
        run.Metrics = metrics;
        run.Tracker = MakeTracker(run);
        // While failures wait for the origin resolver, what follows them waits too: the verdict sees everything in order.
        capture.OnExit = x => { if (_held.Count > 0) _held.Enqueue(() => run.Tracker.Exit(x)); else run.Tracker.Exit(x); };
        capture.OnMessage = m => { if (_held.Count > 0) _held.Enqueue(() => run.Tracker.Message(m)); else run.Tracker.Message(m); };
        capture.OnEvent = ev => Route(run, ev);

        int exitCode = 0;
        try
        {
            exitCode = Trace(run);
        }
        finally
        {
            Finish(run, exitCode);
        }
        renderer.Flush();
        _output!.Flush();
        StartupTimes.Mark("summary written");
        if (StartupTimes.Enabled)
            StartupTimes.Mark($"GC: {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)} collections of generations 0/1/2, " +
                $"{GC.GetTotalAllocatedBytes() >> 20} MB allocated, {GC.GetTotalPauseDuration().TotalMilliseconds:0} ms paused");
        if (_output.Failure != null)
            throw new WhyfailException($"cannot write to {_output.Name}: {_output.Failure}; the report is incomplete", ExitCodes.Output);
        return exitCode;
    }

    /// <summary>When the origin resolver's reads (kallsyms, the kernel's BTF) start.</summary>
    private enum ResolverReads { BesideTheLoad, AtTheRelease, AfterTheEnd }

    /// <summary>
    /// The resolver-timing aid WHYFAIL_RESOLVER_LATE: unset, the resolver's reads start beside the programs' load;
    /// =1 (for measuring), when the command is released; =end (for testing), kallsyms' only once the command's end was
    /// seen, so that its failures reach the end of the run before the resolver does (their origins must still be shown).
    /// </summary>
    private static readonly ResolverReads ResolverTiming = Environment.GetEnvironmentVariable("WHYFAIL_RESOLVER_LATE") switch
    {
        "1" => ResolverReads.AtTheRelease,
        "end" => ResolverReads.AfterTheEnd,
        _ => ResolverReads.BesideTheLoad,
    };
    /// <summary>Set when the command's end was seen: with <see cref="ResolverReads.AfterTheEnd"/>, kallsyms is read from then on.</summary>
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// The origin resolver's symbol table (/proc/kallsyms: seconds in the lab's emulated CPU) and the kernel's BTF that it asks
    /// return types of (5 MB: a second of the lab's emulated CPU) are read on threads of their own, so that making the resolver
    /// does not hold the loop (read at the first failure, they held it past the command's exit: issue 16, exit -> prompt).
    /// </summary>
    private void StartResolverReads(OriginPlan origins)
    {
        if (origins.Functions.Count == 0 || _kallsyms != null) return;
        Kallsyms ReadKallsyms()
        {
            var (k, writeTo) = KallsymsCache.Read();
            StartupTimes.Mark($"kallsyms read ({k.Count} text symbols{(writeTo == null ? ", this boot's image" : "")})");
            // The image for the next runs of this boot, after the resolver has what it needs.
            if (writeTo != null) _ = Task.Run(() => KallsymsCache.Write(writeTo, k));
            // What the first origin asks next: symbols by name, the kernel's text and its decoder.
            if (k.AddressesVisible)
            {
                var callees = _callees = KernelCallees.ForRunningKernel(k, settings.Vmlinux);
                callees.Warm();
                StartupTimes.Mark("kernel text opened");
            }
            return k;
        }
        _kallsyms = ResolverTiming == ResolverReads.AfterTheEnd
            ? _ended.Task.ContinueWith(_ => ReadKallsyms(), TaskScheduler.Default)
            : Task.Run(ReadKallsyms);
        var kinds = _returnKinds = BtfReturnKinds.ForRunningKernel();
        var btf = Task.Run(() =>
        {
            kinds.Warm();
            StartupTimes.Mark("kernel BTF read");
        });
        _resolverReads = Task.WhenAll(_kallsyms, btf);
    }

    /// <summary>What one run's steps share; the disposable parts are owned (and disposed) by <see cref="Run"/>.</summary>
    private sealed class RunState(IRenderer renderer, AnalysisPipeline pipeline, EventFilter filter, TraceSummary summary,
        Inject.Injector? injector, Deny.DenyMatcher? deny, SessionHost host, TracepointCapture capture, OriginPlan origins)
    {
        public IRenderer Renderer { get; } = renderer;
        public AnalysisPipeline Pipeline { get; } = pipeline;
        public EventFilter Filter { get; } = filter;
        public TraceSummary Summary { get; } = summary;
        public Inject.Injector? Injector { get; } = injector;
        public Deny.DenyMatcher? Deny { get; } = deny;
        public SessionHost Host { get; } = host;
        public TracepointCapture Capture { get; } = capture;
        public OriginPlan Origins { get; } = origins;
        /// <summary>The origin probes as attached: kept for the resolver, which may be made after the end has detached them.</summary>
        public OriginAttacher? Probes { get; } = capture.OriginProbes;
        public Analysis.Cgroups.CgroupResolver Cgroups { get; } = new();
        public Analysis.Verdict.FailureTracker Tracker { get; set; } = null!;
        public Metrics.FailureMetrics? Metrics { get; set; }
        public OriginGrowth? Growth { get; set; }
        public KernelCallees? Callees { get; set; }
        public SourceLines? SourceLines { get; set; }
    }

    /// <summary>The origin resolver, origin growth and source lines, once per run (before or after the release).</summary>
    private void MakeResolver(RunState run)
    {
        (run.Growth, run.Callees) = AttachOrigins(run.Capture, run.Probes, run.Origins, run.Pipeline, run.Renderer);
        run.SourceLines = run.Pipeline.SourceLines;
    }

    /// <summary>The verdict: failures are held until judged (routine, linked to a message, culprit of a bad exit), then rendered.</summary>
    private Analysis.Verdict.FailureTracker MakeTracker(RunState run) => new(ev =>
    {
        if (ev.Failed) { if (ev.Routine is null) run.Summary.NotRoutine++; else run.Summary.Routine++; }
        run.Renderer.Event(ev);
    }, v =>
    {
        // whyfail deny: only the ends its refusals explain, not every process of the machine that exits badly.
        if (run.Deny == null || settings.DenyAllFailures || v.Culprits.Any(c => c.DeniedBy != null)) run.Renderer.Verdict(v);
    }, launcherPid: _child?.Id, maxHeld: settings.System ? Analysis.Verdict.FailureTracker.MaxHeldService : Analysis.Verdict.FailureTracker.MaxHeld);

    /// <summary>One event from the capture: marked (injected, denied), filtered, analysed, counted, handed to the verdict.</summary>
    private void Route(RunState run, SyscallEvent ev)
    {
        if (_output!.Failure != null) return; // nowhere to report it: the session is stopping
        var summary = run.Summary;
        run.Injector?.Mark(ev);
        if (run.Deny is { } deny)
        {
            deny.Mark(ev);
            if (ev.Failed && ev.DeniedBy == null && !settings.DenyAllFailures)
            {
                summary.Filtered++;
                return;
            }
        }
        SignalRestart.Apply(ev);
        switch (run.Filter.Judge(ev))
        {
            case EventFilter.Verdict.Filtered:
                summary.Filtered++;
                return;
            case EventFilter.Verdict.HiddenInternal:
                summary.HiddenInternal++;
                ev.Syscall = SyscallTable.Name(ev.Nr) ?? $"syscall_{ev.Nr}";
                CountIn(summary, ev);
                return;
        }
        ev.Cgroup = run.Cgroups.Resolve(ev.CgroupId);
        run.Pipeline.Process(ev);
        run.Metrics?.Count(ev);
        bool shown = settings.All || ev.Failed; // follow-up successes only inform the verdict
        if (shown) CountIn(summary, ev);
        if (_resolverPending && (ev.Failed || _held.Count > 0))
        {
            // Decoded and explained now (live state); its origin, and the verdict's look at it, once the resolver is there.
            if (ev.Failed && ev.OriginRecords.Count > 0) _heldNeedsResolver = true;
            _held.Enqueue(() =>
            {
                run.Pipeline.CompleteOrigin(ev, deep: true);
                run.Growth?.Saw(ev);
                run.Tracker.Add(ev, shown);
            });
            // A flood before the resolver is ready: the loop waits for its reads rather than holding events without bound.
            if (_held.Count >= MaxHeldForResolver && ResolverTiming != ResolverReads.AfterTheEnd) TryMakeResolver(run, wait: true, grow: true);
            return;
        }
        run.Growth?.Saw(ev);
        run.Tracker.Add(ev, shown);
    }

    /// <summary>
    /// Makes the origin resolver once its reads are done (<paramref name="wait"/>: waiting for them), then completes the
    /// failures held for it, in order; false while it is not there yet. <paramref name="grow"/>: origin growth starts (not
    /// when the command has ended).
    /// </summary>
    private bool TryMakeResolver(RunState run, bool wait, bool grow)
    {
        if (!_resolverPending) return true;
        if (!wait && !_resolverReads!.IsCompleted) return false;
        if (wait && !grow) StartupTimes.Mark(_resolverReads!.IsCompleted ? "the end needs the origin resolver (read already)" : "the end waits for the origin resolver");
        else if (wait) StartupTimes.Mark($"the loop waits for the origin resolver ({_held.Count} events held)");
        _resolverPending = false;
        run.Pipeline.OriginsLater = false;
        MakeResolver(run);
        StartupTimes.Mark("origin resolver ready");
        if (grow) run.Growth?.Start();
        else run.Growth?.Stop(); // never started: says what the command's end left unattached
        ReleaseHeld();
        return true;
    }

    private void ReleaseHeld()
    {
        while (_held.TryDequeue(out var step)) step();
        _heldNeedsResolver = false;
    }

    /// <summary>Releases the command (or starts watching), makes the origin resolver, and polls until the end; the exit code.</summary>
    private int Trace(RunState run)
    {
        var (renderer, pipeline, capture, tracker) = (run.Renderer, run.Pipeline, run.Capture, run.Tracker);
        // The decoders' and explanations' first use (their tables, the families' registration) on a made-up failure,
        // before the release: the command's first failures are then explained while it still runs. After the release it
        // shortened the lab's launch -> first call but lengthened exit -> prompt as much (bench/README "Quiet host, session 15").
        pipeline.WarmUp();
        StartupTimes.Mark("analysis warmed up");
        bool runs = run.Host.Begin(capture);
        StartupTimes.Mark("command released");
        StartResolverReads(run.Origins);
        if (_child != null && runs)
            run.Injector?.Start(_child.Id, renderer.Notice);
        else if (_child == null)
        {
            if (run.Deny != null) run.Deny.Start(renderer.Notice);
            else renderer.Notice(StartLine.For(settings, run.Metrics?.Endpoint));
        }
        if (settings.Pinpoint)
            run.Growth?.Start();
        else if (capture.OriginProbes != null && _resolverReads != null)
        {
            // The loop starts now: failures wait for the resolver (its kallsyms and BTF reads, seconds of an emulated CPU)
            // only for their origins, and the end waits for it only if one of them still needs it (issue 16).
            _resolverPending = true;
            pipeline.OriginsLater = true;
            TryMakeResolver(run, wait: false, grow: true);
        }
        else
        {
            MakeResolver(run);
            StartupTimes.Mark("origin resolver ready");
            run.Growth?.Start();
        }
        run.Metrics?.Refresh(capture, (pipeline.ExplanationsSkipped, pipeline.ExplanationsReused), (tracker.JudgedEarly, tracker.JudgedAtRepeat), now: true);

        // A service runs for days: its heap is kept near its live size. A command's session is short, and a flood of
        // its failures would pay for collections it does not need (issue 16: the consumer's cost per event).
        var heap = settings.System ? new HeapPacer() : null;
        return run.Host.Loop(capture, () => _output!.Failure != null, () =>
        {
            run.Deny?.Tick(renderer.Notice);
            TryMakeResolver(run, wait: false, grow: true);
            tracker.Tick(readerCaughtUp: capture.Backlog == 0);
            renderer.Flush();
            heap?.Step();
            run.Growth?.Step();
            pipeline.Pinpoint?.Step();
            run.Metrics?.Refresh(capture, (pipeline.ExplanationsSkipped, pipeline.ExplanationsReused), (tracker.JudgedEarly, tracker.JudgedAtRepeat));
            if (_reopen) ReopenOutput(renderer);
        }, stoppedEarly: () =>
        {
            // The report can no longer be written: stop watching, let the command finish untraced.
            run.Growth?.Stop();
            capture.Detach();
            stderr.WriteLine($"whyfail: cannot write to {_output!.Name}: {_output.Failure}; stopped tracing, waiting for the command to finish untraced");
        });
    }

    /// <summary>
    /// The end, on every path: events already in the ring buffer are reported, then every program is detached
    /// (attaching stops at once), the verdict and the summary are written, and the analysis' kernel files closed.
    /// </summary>
    private void Finish(RunState run, int exitCode)
    {
        var (renderer, capture) = (run.Renderer, run.Capture);
        StartupTimes.Mark("command ended");
        _ended.TrySetResult();
        run.Deny?.Stop();
        run.Growth?.Stop();
        StartupTimes.Mark("origin growth stopped");
        capture.Detach(ending: true, holder: Launcher.SmallLauncher());
        StartupTimes.Mark("detached (probe links handed off)");
        if (capture.ReaperPid is int reaper)
            renderer.Notice($"{capture.ReaperHolds}: the kernel detaches probes one at a time, so a helper (whyfail {LinkReaper.Verb}, pid {reaper}) " +
                "detaches them in the background once whyfail has exited (whyfail doctor shows it while it runs)");
        capture.Drain();
        StartupTimes.Mark("drained");
        if (_resolverPending)
        {
            // Failures still waiting for their origins: the resolver is waited for only when one of them has origin records.
            if (_heldNeedsResolver && _output!.Failure == null) TryMakeResolver(run, wait: true, grow: false);
            else
            {
                _resolverPending = false;
                run.Pipeline.OriginsLater = false;
                ReleaseHeld();
            }
        }
        run.Deny?.Tick(renderer.Notice, final: true);
        if (_output!.Failure == null) run.Tracker.Finish(exitCode);
        StartupTimes.Mark("verdict made");
        FillSummary(run.Summary, capture, run.Pipeline, run.Injector, run.Deny);
        run.Summary.JudgedEarly = run.Tracker.JudgedEarly;
        run.Summary.JudgedAtRepeat = run.Tracker.JudgedAtRepeat;
        renderer.Summary(run.Summary);
        StartupTimes.Mark("summary rendered");
        run.SourceLines?.Dispose();
        run.Callees?.Dispose();
    }

    /// <summary>Loads and attaches the tracepoint programs (and the origin probes planned before the command starts).</summary>
    private TracepointCapture OpenCapture(OriginPlan origins)
    {
        return new(new CaptureOptions
        {
            TraceAll = settings.System,
            ReportSuccess = settings.All,
            Follow = settings.Follow,
            RingBufferBytes = settings.BufferBytes,
            Captures = CaptureTable.BuiltIn,
            OriginFunctions = origins.Functions,
            OriginUpFront = origins.UpFront,
            OriginBackend = settings.Backend,
            OriginProgress = Progress("attaching origin probes"),
            OriginArgs = settings.Args,
            Pinpoint = settings.Pinpoint,
            Syscalls = settings.Syscalls?.ToHashSet(),
            Errnos = settings.Errnos?.ToHashSet(),
            Comms = settings.Comms?.ToList(),
            // the explanations' rules and the origin resolver (the descriptor arguments' file systems) read it
            Context = settings.Explain || origins.Functions.Count > 0,
        });
    }

    /// <summary>
    /// With origin probes attached: the resolver that names where each error was born, the growth of the watched set
    /// while the command runs, names for raw records, and source lines when debug info is there.
    /// </summary>
    private (OriginGrowth? Growth, KernelCallees? Callees) AttachOrigins(TracepointCapture capture, OriginAttacher? attached, OriginPlan origins, AnalysisPipeline pipeline, IRenderer renderer)
    {
        if (attached is not { } probes)
        {
            if (settings.Args)
                throw ArgsNeedOrigins(capture);
            return (null, null);
        }
        if (settings.Args)
            pipeline.ChainArgs = ChainArguments.ForRunningKernel();
        KernelCallees? callees;
        var kallsyms = _kallsyms?.GetAwaiter().GetResult() ?? Kallsyms.Load();
        var symbols = new KallsymsSymbols(kallsyms);
        pipeline.Origins = new OriginResolver(symbols, probes.Functions, OriginBackends.Describe(probes.Backend), returnKinds: _returnKinds ?? BtfReturnKinds.ForRunningKernel(),
            indexNames: probes.IndexNames, callees: callees = _callees ?? KernelCallees.ForRunningKernel(kallsyms, settings.Vmlinux));
        // What was not attached before the command starts is attached while it runs.
        IReadOnlyList<(string Syscall, IReadOnlyList<string> Functions)> pending = probes.Pending.Count > 0 ? [(origins.Syscalls[0], probes.Pending)] : [];
        var growth = new OriginGrowth(probes, pipeline.Origins, renderer, settings,
            probes.Pending.Count > 0 ? origins.Syscalls.Skip(1) : origins.Syscalls, pending, origins.InBackground);
        renderer.UseKernelNames(new Analysis.Origin.Resolve.ResolverNames(pipeline.Origins, symbols));
        renderer.Notice($"kernel origins: {probes.Functions.Count} functions watched with {OriginBackends.Describe(probes.Backend)} " +
            $"(attached in {probes.AttachTime.TotalMilliseconds:0} ms{(probes.Refused.Count > 0 ? $"; {probes.Refused.Count} refused by the kernel, e.g. {probes.Refused[0].Function}: {probes.Refused[0].Reason}" : "")})" +
            (origins.InBackground != null
                ? $"; {(probes.Pending.Count > 0 ? $"the other {probes.Pending.Count} functions of {origins.Syscalls[0]}'s call graph and " : "")}the rest of the default syscall set " +
                  "are attached while the command runs, and a syscall's call graph when it first fails (failures before that say \"not watched yet\")"
                : ""));
        pipeline.SourceLines = SourceLines.ForSession(settings.Vmlinux, settings.KernelSrc, kallsyms, renderer.Notice);
        return (growth, callees);
    }

    /// <summary>What the session counted, for the summary at exit.</summary>
    private static void FillSummary(TraceSummary summary, TracepointCapture capture, AnalysisPipeline pipeline, Inject.Injector? injector, Deny.DenyMatcher? deny)
    {
        var stats = capture.Stats;
        summary.Reported = stats.Reported;
        summary.Lost = stats.LostEvents;
        summary.LostEvidence = stats.LostEvidence;
        summary.Injected = injector?.Injected;
        summary.Deny = deny?.Summary();
        summary.ExplanationsReused = pipeline.ExplanationsReused;
        summary.ExplanationsSkipped = pipeline.ExplanationsSkipped;
    }

    /// <summary>SIGHUP with -o FILE and no command: the file is reopened (appending), for log rotation.</summary>
    private void ReopenOutput(IRenderer renderer)
    {
        _reopen = false;
        renderer.Flush();
        try
        {
            _output!.Replace(OutputFile.Open(settings.OutputFile!, append: true));
        }
        catch (WhyfailException e)
        {
            stderr.WriteLine($"whyfail: SIGHUP: {e.Message}; still writing to the file opened before");
            return;
        }
        renderer.Notice($"reopened {TextSafety.Sanitize(settings.OutputFile!)} on SIGHUP");
    }

    /// <summary>What to watch for origins: <paramref name="Functions"/> before the command starts (for at most
    /// <paramref name="UpFront"/> with backends that attach one function at a time), the call graphs of
    /// <paramref name="Syscalls"/>; with --deep auto, <paramref name="InBackground"/> is the default set, attached while
    /// the command runs.</summary>
    private sealed record OriginPlan(IReadOnlyList<string> Functions, IReadOnlyList<string> Syscalls, TimeSpan? UpFront, IReadOnlyList<string>? InBackground);

    /// <summary>
    /// --deep auto attaches at most this long before the command starts (openat's call graph first); fexit and single
    /// kretprobes cost ~17 ms per function in the lab's emulated CPU, and the default set has ~600. 0.25 s since
    /// session 13 (was 0.5 s): with the fexit ids from the per-boot cache instead of a parse of the kernel's BTF inside
    /// the budget, as many functions fit (bench/README "Start-up, session 13"); WHYFAIL_UPFRONT_MS (a measuring aid,
    /// bench/deep --upfront) sets another.
    /// </summary>
    internal static readonly TimeSpan UpFrontAttach = TimeSpan.FromMilliseconds(
        int.TryParse(Environment.GetEnvironmentVariable("WHYFAIL_UPFRONT_MS"), out int ms) && ms >= 0 ? ms : 250);

    /// <summary>The kernel functions to watch for origins, or none (with a notice saying why).</summary>
    private OriginPlan PlanOrigins(IRenderer renderer)
    {
        var none = new OriginPlan([], [], null, null);
        bool auto = settings.DeepSyscalls == null;
        var deep = settings.DeepSyscalls ?? OriginPlanner.DefaultSyscalls;
        if (settings.Args && (deep.Count == 0 || settings.Backend == OriginBackend.None))
            throw new WhyfailException("--args shows the arguments of the functions on the origin chain: it needs kernel origins, which --deep none / --backend none turn off", ExitCodes.Usage);
        if (deep.Count == 0 || settings.Backend == OriginBackend.None) return none;
        if (settings.Backend == null && OriginBackends.Candidates(out var whyNone).Count == 0)
        {
            if (settings.Args) throw ArgsNeedOrigins(whyNone);
            renderer.Notice($"no kernel origins: {whyNone}. Failures, evidence and explanations still come from tracepoints; " +
                "on a kernel that allows kprobes or fexit (as Debian, Ubuntu, Fedora and RHEL kernels do unless locked down) whyfail also shows where in the kernel each error is born (see whyfail doctor).");
            return none;
        }
        foreach (var r in LinkReaper.Find().Where(r => !r.Holder)) // (a holder's few perf events slow no attach)
            renderer.Notice($"{LinkReaper.Describe(r)} (the kernel detaches probes one at a time: attaching may be slower until it ends)");
        // --deep auto: the most common failure's graph before the command starts, the rest while it runs.
        var plan = auto
            ? OriginPlanner.Make([OriginPlanner.First], Math.Min(OriginGrowth.PerSyscallBudget, settings.DeepBudget), renderer.Notice, settings.Vmlinux)
            : OriginPlanner.Make(deep, settings.DeepBudget, renderer.Notice, settings.Vmlinux);
        if (plan.Functions.Count > 0)
            renderer.Notice($"kernel call graph of {plan.Syscalls.Count} syscall(s) from {plan.TextSource}: {plan.Functions.Count} functions " +
                $"({plan.Elapsed.TotalMilliseconds:0} ms{(plan.Truncated ? $", cut at {(auto ? "the first syscall's budget" : $"--deep-budget {settings.DeepBudget}")}" : "")})");
        return auto ? new OriginPlan(plan.Functions, plan.Syscalls, UpFrontAttach, deep) : new OriginPlan(plan.Functions, plan.Syscalls, null, null);
    }

    /// <summary>Why --args cannot be honoured: no origin backend, so no origin chain to show arguments for.</summary>
    internal static WhyfailException ArgsNeedOrigins(string? why) => new(
        "--args shows the arguments of the functions on the origin chain, which needs kernel origins: kprobes or fexit" +
        (string.IsNullOrEmpty(why) ? "" : $" ({why})") + ". Run without --args to trace and explain failures from tracepoints (whyfail doctor says what this kernel allows)",
        ExitCodes.KernelUnsupported);

    /// <summary><see cref="ArgsNeedOrigins(string?)"/> when the capture attached no origin probes: why, from its limitations.</summary>
    internal static WhyfailException ArgsNeedOrigins(TracepointCapture capture) =>
        ArgsNeedOrigins(string.Join("; ", capture.Limitations.Where(l => l.Contains("origin", StringComparison.Ordinal))));

    /// <summary>A progress line on the terminal for slow steps (only when standard error is a terminal).</summary>
    private Action<int, int>? Progress(string what)
    {
        if (Console.IsErrorRedirected) return null;
        var sw = Stopwatch.StartNew();
        long last = 0;
        return (done, total) =>
        {
            if (done != total && sw.ElapsedMilliseconds - last < 200) return;
            last = sw.ElapsedMilliseconds;
            stderr.Write($"\rwhyfail: {what}: {done}/{total}{(done == total ? "\n" : "")}");
        };
    }

    private static void CountIn(TraceSummary summary, SyscallEvent ev) =>
        summary.Count(ev.Syscall, ev.Failed ? Errno.Name(ev.Errno) ?? ev.Errno.ToString() : "(ok)", ev.Comm);

    private IRenderer CreateRenderer()
    {
        Stream? file = settings.OutputFile != null ? OutputFile.Open(settings.OutputFile) : null;
        _output = new GuardedOutput(file ?? Console.OpenStandardError(), settings.OutputFile ?? "standard error");
        bool color = settings.Color.Decide(toFile: file != null);
        // Standard error unbuffered, as it always is: notices and progress lines stay in order.
        return OutputFormats.Create(settings.Format, _output, unbuffered: file == null,
            new TextLook(color, ShowComm: settings.System, ShowRoutine: settings.Routine || settings.All));
    }
}
