using System.Diagnostics;
using System.Runtime.InteropServices;
using Whyfail.Analysis.Origin.Kernel;
using Whyfail.Analysis.Origin.Source;
using Whyfail.Analysis.Probe;
using Whyfail.Capture;
using Whyfail.Capture.Native;
using Whyfail.Capture.Probe;
using Whyfail.Events;
using Whyfail.Rendering;

namespace Whyfail.Tracing;

/// <summary>Everything the command line says about one `whyfail probe` run.</summary>
public sealed class ProbeSettings
{
    public required IReadOnlyList<string> Functions { get; init; }
    public WhenCondition When { get; init; } = WhenCondition.Always;
    public bool Args { get; init; }
    public bool Lines { get; init; }
    public IReadOnlyList<string> Command { get; init; } = [];
    public IReadOnlyList<int> Pids { get; init; } = [];
    public string? User { get; init; }
    public string? OutputFile { get; init; }
    public bool Json { get; init; }
    public string? Vmlinux { get; init; }
    /// <summary>Most line probes attached in all (each costs a kprobe to attach and an RCU grace period to detach).</summary>
    public int MaxLines { get; init; } = 400;
}

/// <summary>
/// One `whyfail probe` run: the session's tracepoint capture launches the command (or adopts -p processes)
/// and follows its children; probe.bpf.o reports every call of the chosen kernel functions by those
/// tasks; <see cref="ProbeSpeculation"/> keeps each call until it returns and reports it only when the
/// --when condition holds. Every kernel object is released on any exit path.
/// </summary>
public sealed class ProbeSession(ProbeSettings settings)
{
    public int Run()
    {
        var target = SessionHost.Resolve(settings.Command, settings.Pids, settings.User);
        KernelChecks.RequireBpf();
        if (ProbeCapture.Unavailable() is { } why)
            throw new WhyfailException($"whyfail probe needs kprobes (a kprobe on each function's entry and source lines, a kretprobe on its return), and {why}. " +
                "Run it on a kernel that allows kprobes (Debian, Ubuntu, Fedora and RHEL stock kernels do unless locked down); `whyfail doctor` shows what this one allows.",
                ExitCodes.KernelUnsupported);

        var kallsyms = Kallsyms.Load();
        kallsyms.RequireAddresses();
        BtfTypeTable? btf = null;
        try
        {
            btf = BtfTypeTable.Running;
        }
        catch (KernelAnalysisException)
        {
        }

        using var output = CreateOutput();
        var targets = new List<ProbeTarget>();
        DebugInfo? debug = null;
        DwarfReader? dump = null;
        if (settings.Lines)
        {
            debug = DebugInfoLocator.Find(settings.Vmlinux, kallsyms, out var missing)
                ?? throw new WhyfailException($"--lines needs the kernel's debug info: {missing}", ExitCodes.KernelUnsupported);
            dump = new DwarfReader(debug.Path);
        }
        foreach (var name in settings.Functions)
        {
            if (!kallsyms.TryGetSymbol(name, out var sym))
                throw new WhyfailException($"no kernel function '{name}' in /proc/kallsyms (inlined everywhere, or misspelt)", ExitCodes.Usage);
            var sig = FunctionSignature.For(name, btf);
            DwarfFunction? dwarf = null;
            if (dump != null)
            {
                try
                {
                    dwarf = dump.Function(name, debug!.ToLink(sym.Address));
                }
                catch (Exception e) when (e is InvalidDataException or KernelAnalysisException or IndexOutOfRangeException or ArgumentException)
                {
                    throw new WhyfailException($"--lines: cannot read the DWARF of {name} in {debug!.Path}: {e.Message}", ExitCodes.KernelUnsupported);
                }
                output.Notice($"source lines: {dwarf.LineProbes.Count} line addresses of {dwarf.File} in {name}, {dwarf.Variables.Count} parameters and locals " +
                    $"(DWARF of its compilation unit only, from {debug.Path}: {dump.LastCost})");
            }
            targets.Add(new ProbeTarget(name, sig, dwarf, sym.Address));
        }
        dump?.Dispose();
        var lines = debug != null ? ProbePlan.LinesOf(targets, debug.Slide, settings.MaxLines) : [];
        int wanted = targets.Sum(t => t.Dwarf?.LineProbes.Count ?? 0);
        if (lines.Count < wanted)
            output.Notice($"source lines: only the first {lines.Count} of {wanted} line addresses are probed (each is a kprobe)");
        var plan = new ProbePlan { Targets = targets, Lines = lines };
        var stats = new ProbeStats { Functions = settings.Functions, Condition = settings.When.Text };
        var speculation = new ProbeSpeculation(plan, settings.When, stats, output.Call);

        // The command's launcher (held before exec), signals forwarded to it or ending the run: the shared session host.
        using var host = SessionHost.Start(target);
        using var capture = new TracepointCapture(new CaptureOptions
        {
            Follow = true,
            Syscalls = new HashSet<int>(), // no failing-syscall reports: only the traced-task bookkeeping is wanted
            RingBufferBytes = 1 << 20,
        });
        var sw = Stopwatch.StartNew();
        using var probes = new ProbeCapture(capture,
            targets.Select(t => new ProbeFunctionSpec(t.Name, t.Signature.Reads().Select(r => (int)r).ToArray())).ToList(),
            lines.Select(l => new ProbeLineSpec(l.LiveAddress, l.Reads)).ToList());
        stats.LinesProbed = probes.LinesAttached;
        stats.LinesNotProbed = probes.LinesRefused;
        output.Notice($"probing {string.Join(", ", settings.Functions)}: kprobe and kretprobe on each{(lines.Count > 0 ? $", {probes.LinesAttached} line kprobes" : "")}" +
            $"{(probes.LinesRefused > 0 ? $" ({probes.LinesRefused} line addresses refused by the kernel: {probes.LastRefusal})" : "")} " +
            $"(attached in {sw.ElapsedMilliseconds} ms){(settings.When.Text.Length > 0 ? $"; calls reported when {settings.When.Text}" : "")}");
        probes.OnHit = speculation.Handle;

        int exitCode = 0;
        try
        {
            host.Begin(capture);
            exitCode = host.Loop(capture, afterPoll: () =>
            {
                probes.Poll(0);
                if (probes.CallbackError is { } e) throw e;
                output.Flush();
            });
        }
        finally
        {
            probes.Drain();
            if (probes.HandOffLinks() is int reaper)
                output.Notice($"the kernel detaches kprobes one at a time: a helper (whyfail {LinkReaper.Verb}, pid {reaper}) detaches the probes once whyfail has exited");
            capture.Detach(holder: Launcher.SmallLauncher());
            probes.Drain();
            stats.Lost = probes.Lost;
            output.Stats(stats);
            output.Flush();
        }
        return exitCode;
    }

    private IProbeOutput CreateOutput()
    {
        Stream stream = settings.OutputFile != null ? OutputFile.Open(settings.OutputFile) : Console.OpenStandardError();
        return settings.Json ? new ProbeJson(stream, settings.Args) : new ProbeText(new StreamWriter(stream) { AutoFlush = settings.OutputFile == null }, settings.Args);
    }
}
