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

    /// <summary>Set with --args: the origin chain's functions get their arguments.</summary>
    public Origin.ChainArguments? ChainArgs { get; set; }

    /// <summary>Set with --pinpoint where kprobes and debug info are there: error sites decided by kprobes.</summary>
    public Origin.Source.Pinpointer? Pinpoint { get; set; }

    /// <summary>
    /// Runs the pipeline once on a synthetic failure, before the traced command starts (nothing of it is needed
    /// to configure the BPF side, which reads the built-in capture table): the first real event is then analysed
    /// at once, while the process that failed is still alive.
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
            ev.DecodedArgs = _lastDecoded is { } last && last.Repeats(ev) ? last.Args : Decoded(ev);
        }
        NoteSocketPeer(ev);
        if (ev.Failed) Audit?.Attach(ev);
        if (!OriginsLater) ResolveOrigin(ev);
        if (ev.Failed && !Errno.IsInternal(ev.Errno) && _explain != null)
            Explain(ev);
        // Origins that are not functions (seccomp, a signal, a security module), once the explanation has looked.
        if (Origins != null && !OriginsLater) Origin.Resolve.OriginCauses.Apply(ev);
    }

    /// <summary>
    /// Set while deep mode's origin resolver is not made yet (its kallsyms and BTF still being read): <see cref="Process"/>
    /// then decodes and explains (what reads live state) but leaves the origin to <see cref="CompleteOrigin"/>.
    /// </summary>
    public bool OriginsLater { get; set; }

    /// <summary>
    /// The origin part of <see cref="Process"/> for an event processed while <see cref="OriginsLater"/> was set, once the
    /// resolver is there (<paramref name="deep"/>: deep mode is on, even if no resolver could be made).
    /// </summary>
    public void CompleteOrigin(SyscallEvent ev, bool deep)
    {
        ResolveOrigin(ev);
        if (Origins != null || deep) Origin.Resolve.OriginCauses.Apply(ev);
    }

    private void ResolveOrigin(SyscallEvent ev)
    {
        if (ev.Failed && Origins != null)
            ev.Origin = Origins.Resolve(ev);
        if (ev.Origin != null)
        {
            SourceLines?.Annotate(ev.Origin, ev.KernelErrno != 0 ? ev.KernelErrno : ev.Errno);
            ChainArgs?.Apply(ev);
            Pinpoint?.Apply(ev);
        }
    }

    /// <summary>
    /// The last call decoded: what decoding reads (number, result, arguments, their captured memory). The capture shares
    /// the arguments and their memory between equal records (<see cref="Capture.EventParser"/>), so a repeat is known
    /// by reference and gets the same decoded strings (immutable) instead of decoding them again.
    /// </summary>
    private sealed record LastDecoded(int Nr, long Ret, bool ErrorAsData, ulong[] RawArgs, IReadOnlyList<CapturedArg> Captured, IReadOnlyList<string> Args)
    {
        public bool Repeats(SyscallEvent ev) => ev.Nr == Nr && ev.Ret == Ret && ev.ErrorAsData == ErrorAsData &&
            ReferenceEquals(ev.Args, RawArgs) && ReferenceEquals(ev.Captured, Captured);
    }

    private LastDecoded? _lastDecoded;

    /// <summary>(pid, descriptor) -> the address its last connect() named: the peer of a later SO_ERROR.</summary>
    private readonly Dictionary<(int Pid, int Fd), (byte[] Addr, uint NetNs)> _peers = [];
    private const int MaxPeers = 4096;

    /// <summary>
    /// Remembers the address of each connect() (reported: a failure such as a non-blocking EINPROGRESS, or a success with
    /// --all) and hands it to the error the same socket later delivers as data (<see cref="SyscallEvent.ConnectedTo"/>): the
    /// one answer to "which address did this socket connect to", for the explanation (ConnectionRefused), its reuse and
    /// the verdict (<see cref="Verdict.FailureSubject.OfPeer"/>).
    /// </summary>
    private void NoteSocketPeer(SyscallEvent ev)
    {
        if (ev.Syscall == "connect" && ev.Capture(1)?.Data is { Length: > 0 } sa)
        {
            if (_peers.Count >= MaxPeers) _peers.Clear(); // a long --system session: the recent ones matter
            _peers[(ev.Pid, unchecked((int)ev.Args[0]))] = (sa, ev.Context?.NetNs ?? 0);
        }
        else if (ev.ErrorAsData && ev.Syscall == "getsockopt" && _peers.TryGetValue((ev.Pid, unchecked((int)ev.Args[0])), out var peer))
            (ev.ConnectedTo, ev.ConnectedNetNs) = peer;
    }

    private IReadOnlyList<string> Decoded(SyscallEvent ev)
    {
        var args = Decoder.Decode(ev, settings.StringLimit);
        _lastDecoded = new LastDecoded(ev.Nr, ev.Ret, ev.ErrorAsData, ev.Args, ev.Captured, args);
        return args;
    }

    /// <summary>Failures explained by reusing the explanation of an identical one (<see cref="ExplanationReuse"/>).</summary>
    public long ExplanationsReused => _reuse.Reused;

    /// <summary>Failures left unexplained because whyfail could not keep up (<see cref="MaxBacklog"/>).</summary>
    public long ExplanationsSkipped { get; private set; }

    /// <summary>The share of the kernel's ring buffer waiting to be read (set by the session; 0 when unknown).</summary>
    public Func<double>? Backlog { get; set; }

    /// <summary>
    /// Explanations read live state (~100–200 µs a failure); decoding and rendering cost a few µs. When this
    /// share of the ring buffer is waiting, whyfail is losing the race against a flood of varied failures:
    /// failures are then reported without an explanation until the backlog is below it again, so that the ring
    /// drains instead of filling up and losing events.
    /// </summary>
    public const double MaxBacklog = 0.25;

    private readonly ExplanationReuse _reuse = new();

    private void Explain(SyscallEvent ev)
    {
        string? key = _reuse.Key(ev);
        bool expired = false;
        if (key != null && _reuse.TryReuse(ev, key, out expired)) return;
        // Behind, but a failure identical to one explained over a second ago: explaining it again costs one
        // explanation per second of such failures, so it is explained.
        if (!expired && Backlog?.Invoke() is double backlog and >= MaxBacklog)
        {
            ExplanationsSkipped++;
            ulong now = KernelClock.NowNs();
            string behind = ev.TimestampNs != 0 && now > ev.TimestampNs ? $"{(now - ev.TimestampNs) / 1e9:0.0} s behind the kernel, " : "";
            ev.Explanation.Add(new Explanation("skipped",
                $"not explained: whyfail could not keep up with a flood of failures ({behind}{backlog:P0} of the ring buffer waiting), " +
                "so the live state was not read, to avoid losing events; the failure itself is reported as it happened", null, false));
            return;
        }
        int before = ev.Explanation.Count;
        _explain!.Explain(ev);
        if (key != null) _reuse.Keep(ev, key, before);
    }
}
