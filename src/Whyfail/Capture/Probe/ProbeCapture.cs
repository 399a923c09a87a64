using System.Runtime.InteropServices;
using System.Text;
using Whyfail.Capture.Bpf.Probe;
using Whyfail.Capture.Native;
using Whyfail.Events;

namespace Whyfail.Capture.Probe;

/// <summary>A function to probe: its name (entry kprobe, return kretprobe) and what to read behind each argument (WF_PROBE_ARG_*).</summary>
public sealed record ProbeFunctionSpec(string Name, int[] ArgReads);

/// <summary>A line probe: the live address of its first instruction and the memory reads (DWARF register, offset, size) it makes.</summary>
public sealed record ProbeLineSpec(ulong LiveAddress, IReadOnlyList<(int Reg, long Off, int Size)> Reads);

/// <summary>
/// The kernel side of `whyfail probe` (bpf/probe.bpf.c): a kprobe and a kretprobe per function, a kprobe
/// per line address, all filtered by the traced-task map of a <see cref="TracepointCapture"/> (reused by
/// descriptor, so the session's launching and following of processes apply). Records arrive through
/// <see cref="OnHit"/> from <see cref="Poll"/>. Every link, and the object, is released on Dispose.
/// </summary>
public sealed unsafe class ProbeCapture : IDisposable
{
    private readonly BpfObject _bpf;
    private readonly List<nint> _links = [];
    private nint _ring;
    private GCHandle _self;
    private readonly int _statsFd;

    public Action<ProbeHit>? OnHit { get; set; }

    /// <summary>Line probes the kernel refused (kprobe blacklist, an instruction kprobes cannot step), with the last reason.</summary>
    public int LinesRefused { get; private set; }
    public int LinesAttached { get; private set; }
    public string? LastRefusal { get; private set; }

    /// <summary>Whether this kernel has kprobes at all (the kprobe PMU); the reason when not.</summary>
    public static string? Unavailable()
    {
        if (Directory.Exists("/sys/bus/event_source/devices/kprobe")) return null;
        string? lockdown = SecurityFs.LockdownMode();
        return "this kernel has no kprobes (/sys/bus/event_source/devices/kprobe is missing)"
            + (lockdown is "confidentiality" or "integrity" ? $"; it runs with lockdown={lockdown}" : "");
    }

    public ProbeCapture(TracepointCapture session, IReadOnlyList<ProbeFunctionSpec> functions, IReadOnlyList<ProbeLineSpec> lines)
    {
        if (functions.Count > WfConst.ProbeMaxFuncs)
            throw new WhyfailException($"at most {WfConst.ProbeMaxFuncs} functions can be probed at once", ExitCodes.Usage);
        _bpf = BpfObject.Open(BpfObject.Embedded("probe.bpf.o"));
        try
        {
            if (Libbpf.MapReuseFd(_bpf.Map(BpfMaps.Tasks), session.TasksMapFd) < 0)
                throw new WhyfailException($"could not share the traced-task map with the probe programs: {Libc.ErrorText(Marshal.GetLastPInvokeError())}",
                    ExitCodes.Internal, LibbpfLog.Take());
            _bpf.Load();
            _statsFd = _bpf.MapFd(BpfMaps.ProbeStats);
            int fnFd = _bpf.MapFd(BpfMaps.ProbeFns);
            for (int i = 0; i < functions.Count; i++)
            {
                var v = new WfProbeFn();
                for (int a = 0; a < WfProbeFn.Layout.KindsCount && a < functions[i].ArgReads.Length; a++) v.Kinds[a] = (uint)functions[i].ArgReads[a];
                uint key = (uint)i;
                if (Libbpf.MapUpdateElem(fnFd, &key, &v, 0) < 0)
                    throw new WhyfailException($"could not configure the probe of {functions[i].Name}: {Libc.ErrorText(Marshal.GetLastPInvokeError())}", ExitCodes.Internal);
            }
            int readsFd = _bpf.MapFd(BpfMaps.ProbeReads);
            for (int i = 0; i < Math.Min(lines.Count, WfConst.ProbeMaxLines); i++)
            {
                var r = new WfProbeReads { N = (uint)Math.Min(lines[i].Reads.Count, WfConst.ProbeReads) };
                for (int k = 0; k < r.N; k++)
                {
                    r.Reg[k] = lines[i].Reads[k].Reg;
                    r.Size[k] = (uint)lines[i].Reads[k].Size;
                    r.Off[k] = lines[i].Reads[k].Off;
                }
                uint key = (uint)i;
                if (Libbpf.MapUpdateElem(readsFd, &key, &r, 0) < 0)
                    throw new WhyfailException($"could not configure line probe {i}: {Libc.ErrorText(Marshal.GetLastPInvokeError())}", ExitCodes.Internal);
            }
            _self = GCHandle.Alloc(this);
            _ring = Libbpf.RingBufferNew(_bpf.MapFd(BpfMaps.ProbeEvents), &OnSample, GCHandle.ToIntPtr(_self), 0);
            if (_ring == 0)
                throw new WhyfailException($"could not open the probe ring buffer: {Libc.ErrorText(Marshal.GetLastPInvokeError())}", ExitCodes.KernelUnsupported);

            // Lines first, then returns, then entries: a call is seen whole or not at all.
            nint line = _bpf.Program(BpfPrograms.ProbeLine);
            for (int i = 0; i < Math.Min(lines.Count, WfConst.ProbeMaxLines); i++)
            {
                var opts = new Libbpf.KprobeOpts { Sz = (nuint)sizeof(Libbpf.KprobeOpts), BpfCookie = (ulong)i, Offset = (nuint)lines[i].LiveAddress };
                nint link = Libbpf.ProgramAttachKprobe(line, null, &opts);
                if (link == 0)
                {
                    LastRefusal = Libc.ErrorText(Marshal.GetLastPInvokeError());
                    LibbpfLog.Take();
                    LinesRefused++;
                    continue;
                }
                _links.Add(link);
                LinesAttached++;
            }
            nint exit = _bpf.Program(BpfPrograms.ProbeExit), entry = _bpf.Program(BpfPrograms.ProbeEntry);
            for (int i = 0; i < functions.Count; i++)
                foreach (var (prog, ret) in new[] { (exit, true), (entry, false) })
                {
                    var opts = new Libbpf.KprobeOpts { Sz = (nuint)sizeof(Libbpf.KprobeOpts), BpfCookie = (ulong)i, Retprobe = ret ? (byte)1 : (byte)0 };
                    nint link = Libbpf.ProgramAttachKprobe(prog, functions[i].Name, &opts);
                    if (link == 0)
                        throw new WhyfailException($"the kernel refused a {(ret ? "kretprobe" : "kprobe")} on {functions[i].Name}: {Libc.ErrorText(Marshal.GetLastPInvokeError())}",
                            ExitCodes.KernelUnsupported, LibbpfLog.Take());
                    _links.Add(link);
                }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Waits up to timeoutMs for records (not at all for 0), then delivers every record in the ring buffer.</summary>
    public void Poll(int timeoutMs)
    {
        if (_ring == 0) return;
        // Read whatever epoll says: ring_buffer__poll reads only the rings epoll reported, and the kernel wakes the
        // reader only for a record written to an empty ring. Reading needs no system call when the ring is empty.
        if (timeoutMs > 0) Libbpf.RingBufferPoll(_ring, timeoutMs);
        Libbpf.RingBufferConsume(_ring);
    }

    public void Drain()
    {
        if (_ring != 0) Libbpf.RingBufferConsume(_ring);
    }

    /// <summary>Records the ring buffer had no room for.</summary>
    public long Lost
    {
        get
        {
            uint idx = WfConst.ProbeStatLost;
            var vals = new ulong[Math.Max(Environment.ProcessorCount, KernelChecks.PossibleCpus())];
            fixed (ulong* p = vals)
                if (Libbpf.MapLookupElem(_statsFd, &idx, p) < 0) return 0;
            return (long)vals.Aggregate(0UL, (a, b) => a + b);
        }
    }

    [UnmanagedCallersOnly]
    private static int OnSample(nint ctx, void* data, nuint size)
    {
        var self = (ProbeCapture)GCHandle.FromIntPtr(ctx).Target!;
        if ((int)size < WfProbeEvent.SizeOf) return 0;
        var e = (WfProbeEvent*)data;
        var regs = new ulong[WfProbeEvent.Layout.RegsCount];
        for (int i = 0; i < regs.Length; i++) regs[i] = e->Regs[i];
        var bytes = new ReadOnlySpan<byte>(e->Data, WfProbeEvent.Layout.DataCount).ToArray();
        var comm = new ReadOnlySpan<byte>(e->Comm, WfProbeEvent.Layout.CommCount);
        int nul = comm.IndexOf((byte)0);
        var hit = new ProbeHit((ProbeHitKind)e->Kind, (int)e->Index, (int)e->Pid, (int)e->Tid, e->Time,
            Encoding.UTF8.GetString(nul < 0 ? comm : comm[..nul]), e->Ret, regs, bytes, (int)e->DataLen, e->ReadOk);
        try
        {
            self.OnHit?.Invoke(hit);
        }
        catch (Exception ex)
        {
            self.CallbackError ??= ex;
            return -1;
        }
        return 0;
    }

    /// <summary>An exception thrown by <see cref="OnHit"/>, rethrown by the session.</summary>
    public Exception? CallbackError { get; private set; }

    /// <summary>
    /// Hands the probe links to a <see cref="LinkReaper"/> (each kprobe's close waits for the kernel; the reaper
    /// closes them after whyfail has exited); returns its pid, or null when whyfail closes them itself on Dispose.
    /// </summary>
    public int? HandOffLinks()
    {
        var fds = _links.Select(l => Libbpf.LinkFd(l)).Where(fd => fd >= 0).ToList();
        if (LinkReaper.HandOff(fds, $"{fds.Count} whyfail probe kprobes") is not int pid) return null;
        LinkReaper.LetGo(_links);
        return pid;
    }

    /// <summary>Detaches every probe (in parallel: each close waits for the kernel) and frees the ring and the object.</summary>
    public void Dispose()
    {
        var links = _links.ToArray();
        _links.Clear();
        Parallel.ForEach(links, new ParallelOptions { MaxDegreeOfParallelism = 64 }, l => Libbpf.LinkDestroy(l));
        if (_ring != 0)
        {
            Libbpf.RingBufferFree(_ring);
            _ring = 0;
        }
        if (_self.IsAllocated) _self.Free();
        _bpf?.Dispose();
    }
}
