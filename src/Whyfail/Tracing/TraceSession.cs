using System.Diagnostics;
using System.Runtime.InteropServices;
using Whyfail.Analysis;
using Whyfail.Capture;
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
    private Process? _child;

    public int Run()
    {
        // Validate everything that can be checked without the kernel first: fast, clear errors.
        string? executable = null;
        Launcher.Credentials? creds = null;
        if (settings.Command.Count > 0)
        {
            executable = Launcher.Resolve(settings.Command[0])
                ?? throw new WhyfailException($"command not found: {settings.Command[0]}", ExitCodes.CommandNotFound);
            if (settings.User != null) creds = Launcher.LookupUser(settings.User);
        }
        foreach (var pid in settings.Pids)
            if (!Directory.Exists($"/proc/{pid}"))
                throw new WhyfailException($"no process with pid {pid}", ExitCodes.NoSuchProcess);

        using var renderer = CreateRenderer();
        var pipeline = new AnalysisPipeline(settings);
        var filter = new EventFilter(settings);
        var summary = new TraceSummary { Print = settings.Summary };

        using var capture = new TracepointCapture(new CaptureOptions
        {
            TraceAll = settings.System,
            ReportSuccess = settings.All,
            Follow = settings.Follow,
            RingBufferBytes = settings.BufferBytes,
            Captures = Decoder.CaptureSpecs(),
        });
        foreach (var l in capture.Limitations) renderer.Notice(l);

        capture.OnEvent = ev =>
        {
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
            pipeline.Process(ev);
            CountIn(summary, ev);
            renderer.Event(ev);
        };

        using var signals = new SignalForwarding(this);
        int exitCode = 0;
        try
        {
            pipeline.WarmUp();
            if (executable != null)
            {
                _child = Launcher.Start(executable, settings.Command, creds);
                capture.Adopt([_child.Id], armOnExec: true);
                Launcher.Release(_child);
            }
            else if (settings.Pids.Count > 0)
                capture.Adopt(settings.Pids, armOnExec: false);

            while (!_stop)
            {
                capture.Poll(100);
                if (_child != null && _child.HasExited) break;
                if (settings.Pids.Count > 0 && settings.Pids.All(p => !Directory.Exists($"/proc/{p}"))) break;
            }
            if (_child != null)
            {
                _child.WaitForExit();
                exitCode = _child.ExitCode;
            }
        }
        finally
        {
            // Events already in the ring buffer are reported, then every program is detached.
            capture.Detach();
            capture.Drain();
            var stats = capture.Stats;
            summary.Reported = stats.Reported;
            summary.Lost = stats.LostEvents;
            summary.LostEvidence = stats.LostEvidence;
            renderer.Summary(summary);
        }
        return exitCode;
    }

    private static void CountIn(TraceSummary summary, SyscallEvent ev) =>
        summary.Count(ev.Syscall, ev.Failed ? Errno.Name(ev.Errno) ?? ev.Errno.ToString() : "(ok)", ev.Comm);

    private IRenderer CreateRenderer()
    {
        Stream? file = settings.OutputFile != null ? OutputFile.Open(settings.OutputFile) : null;
        if (settings.Json)
            return new JsonRenderer(file ?? Console.OpenStandardError());
        TextWriter w = file != null ? new StreamWriter(file) : stderr;
        bool color = settings.Color switch
        {
            ColorMode.Always => true,
            ColorMode.Never => false,
            _ => file == null && !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("NO_COLOR") == null
                 && Environment.GetEnvironmentVariable("TERM") is { } t && t != "dumb",
        };
        return new TextRenderer(w, color, showComm: settings.System);
    }

    /// <summary>
    /// SIGINT / SIGTERM / SIGHUP: forwarded to a launched command (which then exits and ends the
    /// session); without one, they end the session cleanly (detach, summary).
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
