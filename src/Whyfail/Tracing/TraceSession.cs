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
    private volatile bool _stop;
    private volatile bool _reopen;
    private bool ReopensOnHup => settings.OutputFile != null;
    private Process? _child;
    private GuardedOutput? _output;

    public int Run()
    {
        // Validate everything that can be checked without the kernel first: fast, clear errors.
        string? executable = null;
        Launcher.Credentials? creds = null;
        if (settings.Command.Count > 0)
        {
            executable = Launcher.Resolve(settings.Command[0])
                ?? throw new WhyfailException(Launcher.NotFound(settings.Command[0]), ExitCodes.CommandNotFound);
            if (settings.User != null) creds = Launcher.LookupUser(settings.User);
        }
        if (settings.KernelSrc != null && !Directory.Exists(settings.KernelSrc) && !File.Exists(settings.KernelSrc))
            throw new WhyfailException($"--kernel-src {settings.KernelSrc}: no such directory or tarball", ExitCodes.Usage);
        foreach (var pid in settings.Pids)
            if (!Directory.Exists($"/proc/{pid}"))
                throw new WhyfailException($"no process with pid {pid}", ExitCodes.NoSuchProcess);

        using var renderer = CreateRenderer();
        var pipeline = new AnalysisPipeline(new AnalysisOptions(settings.Explain, settings.StringLimit));
        var filter = new EventFilter(settings);
        var summary = new TraceSummary { Print = settings.Summary };

        using var injector = Inject.Injector.Create(settings.Inject);
        // Deny rules: loaded (verified) before the trace, so that a kernel without BPF LSM is said at once; attached below.
        using var deny = settings.Deny.Count > 0 ? Deny.DenyMatcher.Load(settings.Deny) : null;
        var originFunctions = PlanOrigins(renderer);
        // The launcher (whyfail itself, stopped before exec) starts now so that its start-up overlaps
        // loading the BPF programs; killed if the session fails before releasing it.
        if (executable != null) _child = Launcher.Start(executable, settings.Command, creds, injector?.Filter);
        using var unreleased = new Launcher.KillUnlessReleased(_child);
        SourceLines? sourceLines = null;
        using var capture = new TracepointCapture(new CaptureOptions
        {
            TraceAll = settings.System,
            ReportSuccess = settings.All,
            Follow = settings.Follow,
            RingBufferBytes = settings.BufferBytes,
            Captures = Decoder.CaptureSpecs(),
            OriginFunctions = originFunctions,
            OriginBackend = settings.Backend,
            OriginProgress = Progress("attaching origin probes"),
            Pinpoint = settings.Pinpoint,
            Syscalls = settings.Syscalls?.ToHashSet(),
            Errnos = settings.Errnos?.ToHashSet(),
            Comms = settings.Comms?.ToList(),
        });
        foreach (var l in capture.Limitations) renderer.Notice(l);
        pipeline.Backlog = () => capture.Backlog;
        OriginGrowth? growth = null;
        if (capture.OriginProbes is { } probes)
        {
            var kallsyms = Kallsyms.Load();
            var symbols = new KallsymsSymbols(kallsyms);
            pipeline.Origins = new OriginResolver(symbols, probes.Functions, OriginBackends.Describe(probes.Backend), returnKinds: BtfReturnKinds.ForRunningKernel());
            growth = new OriginGrowth(probes, pipeline.Origins, renderer, settings, settings.DeepSyscalls ?? OriginPlanner.DefaultSyscalls);
            if (renderer is JsonRenderer jr)
            {
                jr.OriginNames = pipeline.Origins.Name;
                jr.StackNames = a => symbols.Lookup(a, out ulong off) is { } n ? $"{n}+0x{off:x}" : $"0x{a:x}";
            }
            renderer.Notice($"kernel origins: {probes.Functions.Count} functions watched with {OriginBackends.Describe(probes.Backend)} " +
                $"(attached in {probes.AttachTime.TotalMilliseconds:0} ms{(probes.Refused.Count > 0 ? $"; {probes.Refused.Count} refused by the kernel, e.g. {probes.Refused[0].Function}: {probes.Refused[0].Reason}" : "")})");
            sourceLines = pipeline.SourceLines = SourceLines.ForSession(settings.Vmlinux, settings.KernelSrc, kallsyms, renderer.Notice);
        }
        if (settings.Pinpoint)
            pipeline.Pinpoint = PinpointSetup.Make(capture, sourceLines, renderer.Notice);

        string? noAudit = null;
        using var audit = settings.Explain ? Analysis.Evidence.AuditListener.Start(out noAudit) : null;
        if (noAudit is not null) renderer.Notice($"no LSM denial evidence: {noAudit}");
        pipeline.Audit = audit;
        using var metrics = settings.Metrics is { } endpoint ? Metrics.FailureMetrics.Start(endpoint) : null;
        var cgroups = new Analysis.Cgroups.CgroupResolver();

        // The verdict: failures are held until judged (routine, linked to a message, culprit of a bad exit), then rendered.
        var tracker = new Analysis.Verdict.FailureTracker(ev =>
        {
            if (ev.Failed) { if (ev.Routine is null) summary.NotRoutine++; else summary.Routine++; }
            renderer.Event(ev);
        }, v =>
        {
            // whyfail deny: only the ends its refusals explain, not every process of the machine that exits badly.
            if (deny == null || settings.DenyAllFailures || v.Culprits.Any(c => c.DeniedBy != null)) renderer.Verdict(v);
        }, launcherPid: _child?.Id);
        capture.OnExit = tracker.Exit;
        capture.OnMessage = tracker.Message;
        capture.OnEvent = ev =>
        {
            if (_output!.Failure != null) return; // nowhere to report it: the session is stopping
            injector?.Mark(ev);
            if (deny != null)
            {
                deny.Mark(ev);
                if (ev.Failed && ev.DeniedBy == null && !settings.DenyAllFailures)
                {
                    summary.Filtered++;
                    return;
                }
            }
            SignalRestart.Apply(ev);
            switch (filter.Judge(ev))
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
            ev.Cgroup = cgroups.Resolve(ev.CgroupId);
            pipeline.Process(ev);
            metrics?.Count(ev);
            growth?.Saw(ev);
            bool shown = settings.All || ev.Failed; // follow-up successes only inform the verdict
            if (shown) CountIn(summary, ev);
            tracker.Add(ev, shown);
        };

        using var signals = new SignalForwarding(this);
        int exitCode = 0;
        try
        {
            pipeline.WarmUp();
            if (executable != null)
            {
                capture.Adopt([_child!.Id], armOnExec: true);
                Launcher.Release(_child);
                unreleased.Released = true;
                injector?.Start(_child.Id, renderer.Notice);
            }
            else
            {
                if (settings.Pids.Count > 0) capture.Adopt(settings.Pids, armOnExec: false);
                if (deny != null) deny.Start(renderer.Notice);
                else renderer.Notice(StartLine.For(settings, metrics?.Endpoint));
            }
            metrics?.Refresh(capture, (pipeline.ExplanationsSkipped, pipeline.ExplanationsReused), now: true);

            exitCode = TraceLoop.Run(capture, _child, settings.Pids, () => _stop || _output!.Failure != null, () =>
            {
                deny?.Tick(renderer.Notice);
                tracker.Tick();
                renderer.Flush();
                growth?.Step();
                pipeline.Pinpoint?.Step();
                metrics?.Refresh(capture, (pipeline.ExplanationsSkipped, pipeline.ExplanationsReused));
                if (_reopen) ReopenOutput(renderer);
            }, stoppedEarly: () =>
            {
                // The report can no longer be written: stop watching, let the command finish untraced.
                growth?.Finish();
                capture.Detach();
                stderr.WriteLine($"whyfail: cannot write to {_output!.Name}: {_output.Failure}; stopped tracing, waiting for the command to finish untraced");
            });
        }
        finally
        {
            // Events already in the ring buffer are reported, then every program is detached.
            deny?.Stop();
            growth?.Finish();
            capture.Detach();
            if (capture.ReaperPid is int reaper)
                renderer.Notice($"kernel origins: the kernel detaches probes one at a time, so a helper (whyfail {LinkReaper.Verb}, pid {reaper}) " +
                    "detaches them in the background once whyfail has exited (whyfail doctor shows it while it runs)");
            capture.Drain();
            deny?.Tick(renderer.Notice, final: true);
            if (_output!.Failure == null) tracker.Finish(exitCode);
            var stats = capture.Stats;
            summary.Reported = stats.Reported;
            summary.Lost = stats.LostEvents;
            summary.LostEvidence = stats.LostEvidence;
            summary.Injected = injector?.Injected;
            summary.Deny = deny?.Summary();
            summary.ExplanationsReused = pipeline.ExplanationsReused;
            summary.ExplanationsSkipped = pipeline.ExplanationsSkipped;
            renderer.Summary(summary);
            sourceLines?.Dispose();
        }
        renderer.Flush();
        _output!.Flush();
        if (_output.Failure != null)
            throw new WhyfailException($"cannot write to {_output.Name}: {_output.Failure}; the report is incomplete", ExitCodes.Output);
        return exitCode;
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

    /// <summary>The kernel functions to watch for origins, or none (with a notice saying why).</summary>
    private IReadOnlyList<string> PlanOrigins(IRenderer renderer)
    {
        var deep = settings.DeepSyscalls ?? OriginPlanner.DefaultSyscalls;
        if (deep.Count == 0 || settings.Backend == OriginBackend.None) return [];
        if (settings.Backend == null && OriginBackends.Candidates(out var whyNone).Count == 0)
        {
            renderer.Notice($"no kernel origins: {whyNone}. Failures, evidence and explanations still come from tracepoints; " +
                "on a kernel that allows kprobes or fexit (as Debian, Ubuntu, Fedora and RHEL kernels do unless locked down) whyfail also shows where in the kernel each error is born (see whyfail doctor).");
            return [];
        }
        foreach (var r in LinkReaper.Find())
            renderer.Notice($"{LinkReaper.Describe(r)} (the kernel detaches probes one at a time: attaching may be slower until it ends)");
        var plan = OriginPlanner.Make(deep, settings.DeepBudget, renderer.Notice, settings.Vmlinux);
        if (plan.Functions.Count > 0)
            renderer.Notice($"kernel call graph of {plan.Syscalls.Count} syscall(s) from {plan.TextSource}: {plan.Functions.Count} functions " +
                $"({plan.Elapsed.TotalMilliseconds:0} ms{(plan.Truncated ? $", cut at --deep-budget {settings.DeepBudget}" : "")})");
        return plan.Functions;
    }

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
        if (settings.Json)
            return new JsonRenderer(_output);
        // Standard error unbuffered, as it always is: notices and progress lines stay in order.
        TextWriter w = new StreamWriter(_output) { AutoFlush = file == null };
        bool color = settings.Color switch
        {
            ColorMode.Always => true,
            ColorMode.Never => false,
            _ => file == null && !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("NO_COLOR") == null
                 && Environment.GetEnvironmentVariable("TERM") is { } t && t != "dumb",
        };
        return new TextRenderer(w, color, showComm: settings.System, showRoutine: settings.Routine || settings.All);
    }

    /// <summary>
    /// SIGINT / SIGTERM / SIGHUP: forwarded to a launched command (which then exits and ends the
    /// session); without one, they end the session cleanly (detach, summary) — except SIGHUP with -o FILE,
    /// which reopens the file (log rotation of a long-running --system or -p session).
    /// </summary>
    private sealed class SignalForwarding : IDisposable
    {
        private readonly List<PosixSignalRegistration> _regs = [];

        public SignalForwarding(TraceSession s)
        {
            foreach (var sig in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP })
                _regs.Add(PosixSignalRegistration.Create(sig, ctx =>
                {
                    ctx.Cancel = true;
                    if (s._child is { HasExited: false } child)
                    {
                        // A terminal's Ctrl-C already reached the whole foreground process group.
                        bool fromTerminal = ctx.Signal == PosixSignal.SIGINT && !Console.IsInputRedirected;
                        if (!fromTerminal)
                            Libc.Kill(child.Id, ctx.Signal switch { PosixSignal.SIGINT => Libc.SIGINT, PosixSignal.SIGHUP => 1, _ => Libc.SIGTERM });
                    }
                    else if (ctx.Signal == PosixSignal.SIGHUP && s.ReopensOnHup)
                        s._reopen = true;
                    else
                        s._stop = true;
                }));
        }

        public void Dispose()
        {
            foreach (var r in _regs) r.Dispose();
        }
    }
}
