using System.Runtime.InteropServices;
using Whyfail.Capture.Native;

namespace Whyfail.Capture.Origin;

/// <summary>
/// Kprobes on single kernel instructions (--pinpoint: the instructions that stand for error sites), all
/// running the pinpoint_site program with the probe's index as bpf cookie. Attached by live address;
/// addresses the kernel refuses (kprobe blacklist, an instruction kprobes cannot step) are counted, not fatal.
/// Every link is destroyed on <see cref="Dispose"/>.
/// </summary>
public sealed unsafe class SiteKprobes(nint program) : IDisposable
{
    /// <summary>The program in whyfail.bpf.c.</summary>
    public const string ProgramName = Bpf.BpfPrograms.PinpointSite;

    private readonly List<nint> _links = [];
    private int _next;

    /// <summary>Kprobes attached so far.</summary>
    public int Attached => _links.Count;

    /// <summary>Addresses refused by the kernel so far, with the reason of the last one.</summary>
    public int Refused { get; private set; }
    public string? LastRefusal { get; private set; }

    /// <summary>
    /// Arms a kprobe at <paramref name="liveAddress"/>; returns its index (the cookie its hits carry), or
    /// null when the kernel refused it.
    /// </summary>
    public int? Add(ulong liveAddress)
    {
        int index = _next;
        var opts = new Libbpf.KprobeOpts { Sz = (nuint)sizeof(Libbpf.KprobeOpts), BpfCookie = (ulong)index, Offset = (nuint)liveAddress };
        // No function name: the offset is the absolute address (perf_event_open's kprobe_addr).
        nint link = Libbpf.ProgramAttachKprobe(program, null, &opts);
        if (link == 0)
        {
            LastRefusal = Libc.ErrorText(Marshal.GetLastPInvokeError());
            LibbpfLog.Take();
            Refused++;
            return null;
        }
        _links.Add(link);
        _next++;
        return index;
    }

    public void Dispose()
    {
        var links = _links.ToArray();
        _links.Clear();
        // Each close waits for an RCU grace period; in parallel they share them.
        Parallel.ForEach(links, new ParallelOptions { MaxDegreeOfParallelism = 64 }, l => Libbpf.LinkDestroy(l));
    }
}
