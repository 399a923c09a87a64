using Whyfail.Analysis.Explain;
using Whyfail.Decoding;
using Whyfail.Events;

namespace Whyfail.Analysis;

/// <summary>
/// What happens to an event between capture and rendering: decoding of its arguments, then the
/// explanation rules (which read live state, so they run as soon as the event arrives).
/// Kernel evidence is already attached by the capture stage.
/// </summary>
public sealed class AnalysisPipeline(AnalysisOptions settings)
{
    private readonly ExplainEngine? _explain = settings.Explain ? new ExplainEngine() : null;

    /// <summary>Set when the kernel's audit log is read for LSM denials.</summary>
    public Evidence.AuditListener? Audit { get; set; }

    /// <summary>Set when an origin backend is attached.</summary>
    public Origin.Resolve.OriginResolver? Origins { get; set; }

    /// <summary>Set when a debug vmlinux of the running kernel was found: origins get source lines.</summary>
    public Origin.Source.SourceLines? SourceLines { get; set; }

    /// <summary>Set with --pinpoint where kprobes and debug info are there: error sites decided by kprobes.</summary>
    public Origin.Source.Pinpointer? Pinpoint { get; set; }

    /// <summary>
    /// Runs the pipeline once on a synthetic failure, before the traced command starts: the first
    /// real event is then analysed at once, while the process that failed is still alive.
    /// </summary>
    public void WarmUp()
    {
        var path = System.Text.Encoding.UTF8.GetBytes("/nonexistent-whyfail-warm-up/x");
        var ev = new SyscallEvent
        {
            Nr = 257, Ret = -2, KernelRet = -2, Pid = Environment.ProcessId, Tid = Environment.ProcessId, Comm = "whyfail",
            Args = [unchecked((ulong)-100), 1, 0x80000, 0, 0, 0],
            Captured = [new CapturedArg(1, CaptureKind.String, 0, path, path.Length)],
        };
        Process(ev);
    }

    public void Process(SyscallEvent ev)
    {
        if (ev.Uring is { } u)
            (ev.Syscall, ev.DecodedArgs) = UringText.Decode(u);
        else
        {
            ev.Syscall = SyscallTable.Name(ev.Nr) ?? $"syscall_{ev.Nr}";
            ev.DecodedArgs = Decoder.Decode(ev, settings.StringLimit);
        }
        if (ev.Failed) Audit?.Attach(ev);
        if (ev.Failed && Origins != null)
            ev.Origin = Origins.Resolve(ev);
        if (ev.Origin != null)
        {
            SourceLines?.Annotate(ev.Origin, ev.KernelErrno != 0 ? ev.KernelErrno : ev.Errno);
            Pinpoint?.Apply(ev);
        }
        if (ev.Failed && !Errno.IsInternal(ev.Errno))
            _explain?.Explain(ev);
    }
}
