using System.Diagnostics;
using System.Runtime.InteropServices;
using Whyfail.Analysis;
using Whyfail.Analysis.Origin;
using Whyfail.Analysis.Origin.Kernel;
using Whyfail.Analysis.Origin.Resolve;
using Whyfail.Capture;
using Whyfail.Capture.Native;
using Whyfail.Capture.Origin;
using Whyfail.Decoding;
using Whyfail.Events;
using Whyfail.Tracing;

namespace Whyfail.Graph;

/// <summary>
/// One `whyfail graph` run: function_graph records the kernel call tree of every invocation of the
/// chosen syscalls by the traced processes; whyfail's own sys_exit events (same clock) say which of
/// them failed; only those are kept (speculative tracing), with the error path from the origin
/// backend when there is one, and (--diff) compared with a successful invocation from the same process.
/// </summary>
public sealed class GraphSession(GraphSettings settings, TextWriter stderr)
{
    private readonly List<Invocation> _recorded = [];
    private readonly Dictionary<int, List<SyscallEvent>> _exits = [];
    private bool _trampolines;
    private ChainArguments? _args;

    public int Run()
    {
        if (settings.Input != null) return Replay(settings.Input);

        var target = SessionHost.Resolve(settings.Command, settings.Pids);
        if (FunctionGraphRecorder.Unavailable() is { } why)
            throw new WhyfailException($"cannot record call graphs: {why}. " +
                "Failing calls themselves can still be traced and explained here with `whyfail -- CMD`.", ExitCodes.KernelUnsupported);
        var (entries, nrs) = EntryFunctions();

        using var output = new GraphOutput(settings, stderr);
        // Ctrl-C / SIGTERM from here on go to the command or end the session, through the normal path (tracefs cleaned up).
        using var host = SessionHost.Start(target);
        var pipeline = new AnalysisPipeline(new AnalysisOptions(Explain: false));
        using var capture = OpenCapture(output);
        var resolver = AttachOrigins(capture, pipeline, output);
        capture.OnEvent = ev =>
        {
            if (!nrs.Contains(ev.Nr)) return;
            pipeline.Process(ev);
            if (!_exits.TryGetValue(ev.Tid, out var list)) _exits[ev.Tid] = list = [];
            list.Add(ev);
        };

        var summary = new GraphSummary();
        int exitCode = Record(entries, host, capture, output, summary);
        Report(Correlate(summary, resolver), summary, output);
        return exitCode;
    }

    /// <summary>--input: the trees of an earlier run's JSON, shown again.</summary>
    private int Replay(string input)
    {
        if (!File.Exists(input))
            throw new WhyfailException($"--input: no such file: {input}", ExitCodes.Usage);
        var graphs = GraphJsonWriter.Read(input);
        using var view = new GraphOutput(settings, stderr);
        foreach (var g in graphs) view.Invocation(g);
        view.Finish(new GraphSummary { Recorded = graphs.Count, Failing = graphs.Count(g => g.Failed), Shown = graphs.Count });
        return 0;
    }

    /// <summary>The kernel entry function of each --syscall (what function_graph filters on) and the syscall numbers.</summary>
    private (Dictionary<string, (string, int)> Entries, HashSet<int> Nrs) EntryFunctions()
    {
        var nrs = new HashSet<int>();
        var entries = new Dictionary<string, (string, int)>();
        var traceable = TraceableNames();
        foreach (var sc in settings.Syscalls)
        {
            SyscallTable.TryGetNumber(sc, out int nr);
            string entry = SyscallTable.KernelEntry(sc)
                ?? throw new WhyfailException($"--syscall {sc}: it has no entry function on x86_64 (the kernel's syscall table has none)", ExitCodes.KernelUnsupported);
            if (traceable != null && !traceable.Contains(entry))
                throw new WhyfailException($"--syscall {sc}: its entry function {entry} cannot be traced on this kernel (not in available_filter_functions)", ExitCodes.KernelUnsupported);
            entries[entry] = (sc, nr);
            nrs.Add(nr);
        }
        return (entries, nrs);
    }

    /// <summary>The sys_exit capture (every call, successes included, for --diff) with the planned origin probes.</summary>
    private TracepointCapture OpenCapture(GraphOutput output)
    {
        var capture = new TracepointCapture(new CaptureOptions
        {
            ReportSuccess = true,
            Follow = true,
            Captures = CaptureTable.BuiltIn,
            OriginFunctions = PlanOrigins(output),
            OriginBackend = settings.Backend,
            OriginArgs = settings.Args,
        });
        foreach (var l in capture.Limitations) output.Notice(l);
        // Capability evidence through fexit on cap_capable (kernels before 6.14) leaves trampoline brackets too.
        _trampolines = capture.Capabilities.Kind == CapabilitySourceKind.Fexit;
        return capture;
    }

    /// <summary>The origin resolver over the attached origin probes; null when none are attached.</summary>
    private OriginResolver? AttachOrigins(TracepointCapture capture, AnalysisPipeline pipeline, GraphOutput output)
    {
        if (settings.Args && capture.OriginProbes == null)
            throw Tracing.TraceSession.ArgsNeedOrigins(capture);
        if (capture.OriginProbes is not { } probes) return null;
        var resolver = new OriginResolver(new KallsymsSymbols(Kallsyms.Load()), probes.Functions, OriginBackends.Describe(probes.Backend));
        pipeline.Origins = resolver;
        if (settings.Args) _args = ChainArguments.ForRunningKernel();
        _trampolines |= probes.Backend == OriginBackend.Fexit;
        output.Notice($"return values and error paths from {OriginBackends.Describe(probes.Backend)} on {probes.Functions.Count} kernel functions " +
            $"(attached in {probes.AttachTime.TotalMilliseconds:0} ms)");
        return resolver;
    }

    /// <summary>Runs the command (or watches the pids) with function_graph recording the entry functions; the command's exit code.</summary>
    private int Record(Dictionary<string, (string, int)> entries, SessionHost host, TracepointCapture capture, GraphOutput output, GraphSummary summary)
    {
        using var recorder = new FunctionGraphRecorder(entries, inv => { lock (_recorded) _recorded.Add(inv); }, settings.BufferKbPerCpu);
        if (recorder.RemovedStale.Count > 0)
            output.Notice($"removed tracefs instances left by whyfail processes that no longer run: {string.Join(", ", recorder.RemovedStale)}");
        output.Notice($"recording with {recorder.Description}");
        try
        {
            host.Begin(capture, beforeRun: recorder.Start);
            if (host.Child == null)
                output.Notice($"recording pid {string.Join(", ", settings.Pids)} and the children they create from now on; Ctrl-C to stop");
            return host.Loop(capture);
        }
        finally
        {
            recorder.Stop();
            capture.Detach();
            capture.Drain();
            summary.LostEvents = recorder.LostEvents;
            if (recorder.Unparsed > 0)
                output.Notice($"{recorder.Unparsed} line(s) of the function_graph trace had an unknown shape and were skipped");
        }
    }

    /// <summary>The notices about what is missing from the trees, then the failing trees and the summary.</summary>
    private void Report(List<Invocation> shown, GraphSummary summary, GraphOutput output)
    {
        if (summary.LostEvents > 0)
            output.Notice($"the trace buffer overflowed: {summary.LostEvents} function_graph events were lost, so some trees may be incomplete");
        if (summary.ProbeCallsRemoved > 0)
            output.Notice($"{summary.ProbeCallsRemoved} calls made by whyfail's own BPF programs or by interrupts during the traced calls are left out of the trees");
        if (summary.Unmatched > 0)
            output.Notice($"{summary.Unmatched} recorded invocation(s) had no matching syscall exit event and were left out");
        if (shown.Count == 0)
            output.Notice($"no failing {string.Join("/", settings.Syscalls)} call{(settings.Errnos != null ? " with the errno asked for" : "")} was recorded " +
                $"({summary.Recorded} invocation(s) recorded, all successful or filtered)");
        foreach (var inv in shown) output.Invocation(inv);
        output.Finish(summary);
    }

    /// <summary>Pairs each recorded tree with whyfail's sys_exit event of the same thread and keeps the failing ones.</summary>
    private List<Invocation> Correlate(GraphSummary summary, OriginResolver? resolver)
    {
        var shown = new List<Invocation>();
        var successes = new Dictionary<(int Pid, int Nr), Invocation>();
        var failing = new List<Invocation>();
        foreach (var byTid in _recorded.GroupBy(i => i.Tid))
        {
            var events = _exits.TryGetValue(byTid.Key, out var l) ? l.OrderBy(e => e.TimestampNs).ToList() : [];
            var invs = byTid.OrderBy(i => i.Root.StartUs).ToList();
            int e = 0;
            for (int k = 0; k < invs.Count; k++)
            {
                var inv = invs[k];
                summary.Recorded++;
                double after = (inv.EndUs ?? inv.Root.StartUs) - 1;   // abstime is printed to the µs
                double before = k + 1 < invs.Count ? invs[k + 1].Root.StartUs : double.MaxValue;
                while (e < events.Count && (events[e].Nr != inv.Nr || events[e].TimestampNs / 1000.0 < after)) e++;
                if (e >= events.Count || events[e].TimestampNs / 1000.0 > before + 1)
                {
                    summary.Unmatched++;
                    continue;
                }
                var ev = events[e++];
                inv.Pid = ev.Pid;
                inv.Comm = ev.Comm;
                inv.Ret = ev.Ret;
                inv.ExitTimestampNs = ev.TimestampNs;
                inv.Args = ev.DecodedArgs;
                if (!inv.Failed)
                {
                    if (settings.Diff) summary.ProbeCallsRemoved += ProbeNoise.Strip(inv.Root, _trampolines);
                    summary.SuccessfulDiscarded++;
                    if (settings.Diff) successes.TryAdd((inv.Pid, inv.Nr), inv);
                    continue;
                }
                summary.Failing++;
                summary.ProbeCallsRemoved += ProbeNoise.Strip(inv.Root, _trampolines);
                inv.Origin = ev.Origin;
                var records = resolver == null ? [] : ev.OriginRecords.Select(r => (resolver.Name(r), r.Ret)).ToList();
                ErrorPath.Mark(inv, records, _args == null ? null
                    : records.Select((r, k) => k < ev.OriginArgs.Count && ev.OriginArgs[k] is { } a ? _args.Format(r.Item1, a) : null).ToList());
                if (settings.Errnos == null || settings.Errnos.Contains(ev.Errno))
                    failing.Add(inv);
            }
        }
        foreach (var inv in failing.OrderBy(i => i.ExitTimestampNs))
        {
            if (settings.Diff && successes.TryGetValue((inv.Pid, inv.Nr), out var ok))
                inv.Diff = TreeDiff.Compare(inv, ok);
            shown.Add(inv);
        }
        if (settings.Diff)
            foreach (var inv in shown.Where(i => i.Diff == null))
                stderr.WriteLine($"whyfail: no successful {inv.Syscall} of {TextSafetyName(inv)} was recorded to compare with");
        summary.Shown = shown.Count;
        return shown;
    }

    private static string TextSafetyName(Invocation inv) => Rendering.TextSafety.Sanitize($"{inv.Comm}[{inv.Pid}]");

    private IReadOnlyList<string> PlanOrigins(GraphOutput output)
    {
        if (settings.Args && settings.Backend == OriginBackend.None)
            throw new WhyfailException("--args shows the arguments of the functions on the error path, from the origin backend's records: --backend none turns it off", ExitCodes.Usage);
        if (settings.Backend == OriginBackend.None) return [];
        if (settings.Backend == null && OriginBackends.Candidates(out var whyNone).Count == 0)
        {
            if (settings.Args) throw Tracing.TraceSession.ArgsNeedOrigins(whyNone);
            output.Notice($"no return values: {whyNone}; the error path is then the last calls before the return");
            return [];
        }
        var plan = OriginPlanner.Make(settings.Syscalls, settings.DeepBudget, output.Notice);
        return plan.Functions;
    }

    /// <summary>The traceable kernel functions, or null when the list is unreadable (then nothing is refused up front).</summary>
    private static IReadOnlySet<string>? TraceableNames()
    {
        try
        {
            return TraceableFunctions.Load().Names;
        }
        catch (KernelAnalysisException)
        {
            return null;
        }
    }
}

/// <summary>The chosen output (text, JSON Lines or HTML) to standard error or -o FILE.</summary>
internal sealed class GraphOutput : IDisposable
{
    private readonly Stream? _file;
    private readonly GraphTextRenderer? _text;
    private readonly GraphJsonWriter? _json;
    private readonly GraphHtmlRenderer? _html;
    private readonly TextWriter _writer;
    private readonly TextWriter _stderr;

    public GraphOutput(GraphSettings s, TextWriter stderr)
    {
        _stderr = stderr;
        _file = s.OutputFile != null ? OutputFile.Open(s.OutputFile) : null;
        _writer = _file != null ? new StreamWriter(_file) : stderr;
        if (s.Json) _json = new GraphJsonWriter(_file ?? Console.OpenStandardError());
        else if (s.Html) _html = new GraphHtmlRenderer(_writer);
        else
        {
            bool color = s.Color.Decide(toFile: _file != null);
            _text = new GraphTextRenderer(_writer, color, s.FoldAbove);
        }
    }

    public void Notice(string text)
    {
        _json?.Notice(text);
        _text?.Notice(text);
        if (_html != null)
        {
            _html.Notice(text);
            if (_file != null) _stderr.WriteLine($"whyfail: {Rendering.TextSafety.Sanitize(text)}");
        }
    }

    public void Invocation(Invocation inv)
    {
        _json?.Invocation(inv, "function_graph");
        _text?.Invocation(inv);
        _html?.Invocation(inv);
    }

    public void Finish(GraphSummary s)
    {
        _json?.Summary(s);
        _html?.Finish(s);
        _text?.Notice($"{s.Shown} failing call tree(s) shown; {s.Recorded} invocation(s) recorded, {s.SuccessfulDiscarded} successful discarded" +
            (s.Unmatched > 0 ? $", {s.Unmatched} without a matching exit" : "") + (s.LostEvents > 0 ? $", {s.LostEvents} trace events lost" : ""));
        _writer.Flush();
    }

    public void Dispose()
    {
        _writer.Flush();
        if (_file != null) _writer.Dispose();
    }
}
