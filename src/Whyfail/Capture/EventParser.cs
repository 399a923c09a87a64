using System.Runtime.InteropServices;
using System.Text;
using Whyfail.Analysis.Evidence;
using Whyfail.Capture.Bpf;
using Whyfail.Events;

namespace Whyfail.Capture;

/// <summary>
/// Turns one ring buffer record (struct wf_event and what follows it) into a <see cref="SyscallEvent"/>.
/// The layouts are the generated ones (<see cref="WfEvent"/> …, from the BPF object's BTF), so a field
/// moved on the C side moves here too, and a renamed one stops the build.
/// </summary>
public static unsafe class EventParser
{
    /// <summary>Kernel stack frames kept per error return (WF_ORIGIN_STACK).</summary>
    public const int OriginStack = WfConst.OriginStack;
    /// <summary>Kernel text addresses have the top bit set; attach-list indexes (kprobe cookies) are small.</summary>
    private const ulong KernelHalf = 1UL << 63;
    /// <summary>wf_blob.len of an argument whose memory could not be read.</summary>
    private const ushort Unreadable = 0xffff;

    /// <summary>
    /// The event of one record, or null when it is not a syscall record or shorter than its header.
    /// A record cut short keeps what is whole: the counts in the header are not trusted past its end.
    /// </summary>
    public static SyscallEvent? Parse(ReadOnlySpan<byte> r)
    {
        if (r.Length < WfEvent.SizeOf) return null;
        var h = MemoryMarshal.Read<WfEvent>(r);
        if (h.Type != WfConst.RecSyscall) return null;
        var args = new ulong[WfEvent.Layout.ArgsCount];
        for (int i = 0; i < args.Length; i++) args[i] = h.Args[i];
        var comm = new ReadOnlySpan<byte>(h.Comm, WfEvent.Layout.CommCount);
        int nul = comm.IndexOf((byte)0);

        int off = WfEvent.SizeOf;
        var evidence = new List<Evidence>(h.NEvidence);
        for (int k = 0; k < h.NEvidence && off + WfEvidence.SizeOf <= r.Length; k++, off += WfEvidence.SizeOf)
        {
            var e = MemoryMarshal.Read<WfEvidence>(r[off..]);
            switch (e.Kind)
            {
                case WfConst.EvCapability: evidence.Add(new CapabilityEvidence(e.A, e.B, e.C, (uint)e.D, (uint)e.E)); break;
                case WfConst.EvSignal: evidence.Add(new SignalEvidence(e.A, e.B, e.C, e.D)); break;
            }
        }
        var origin = new List<OriginRecord>(h.NOrigin);
        for (int k = 0; k < h.NOrigin && off + WfOriginRec.SizeOf <= r.Length; k++, off += WfOriginRec.SizeOf)
        {
            var o = MemoryMarshal.Read<WfOriginRec>(r[off..]);
            var stack = new List<ulong>(WfOriginRec.Layout.StackCount);
            for (int f = 0; f < WfOriginRec.Layout.StackCount && o.Stack[f] != 0; f++)
                stack.Add(o.Stack[f]);
            origin.Add(new OriginRecord(o.Fn, o.Fn < KernelHalf, o.Ret, o.Sp, stack));
        }
        var hits = new List<SiteHit>(h.NPin);
        for (int k = 0; k < h.NPin && off + WfPinRec.SizeOf <= r.Length; k++, off += WfPinRec.SizeOf)
        {
            var p = MemoryMarshal.Read<WfPinRec>(r[off..]);
            hits.Add(new SiteHit((int)p.Probe, p.Flags));
        }
        var blobs = new List<CapturedArg>(h.NBlobs);
        for (int k = 0; k < h.NBlobs && off + WfBlob.SizeOf <= r.Length; k++)
        {
            var b = MemoryMarshal.Read<WfBlob>(r[off..]);
            off += WfBlob.SizeOf;
            byte[]? data = null;
            if (b.Len != Unreadable)
            {
                int len = Math.Min((int)b.Len, r.Length - off);
                data = r.Slice(off, len).ToArray();
                off += (len + 7) & ~7;
            }
            // WF_BLOB_FAULTED in the kind: the copy stopped at an unreadable page (the data is the readable prefix)
            blobs.Add(new CapturedArg(b.Arg, (CaptureKind)(b.Kind & ~WfConst.BlobFaulted), b.Index, data, b.FullLen,
                (b.Kind & WfConst.BlobFaulted) != 0));
        }
        var ev = new SyscallEvent
        {
            Nr = (int)h.Nr,
            TimestampNs = h.TsNs,
            Ret = h.Ret,
            KernelRet = h.Ret,
            Args = args,
            Pid = (int)h.Tgid,
            Tid = (int)h.Tid,
            Uid = h.Uid,
            Euid = h.Euid,
            Gid = h.Gid,
            Egid = h.Egid,
            Comm = Encoding.UTF8.GetString(nul >= 0 ? comm[..nul] : comm),
            Captured = blobs,
            OriginRecords = origin,
            OriginDropped = h.OriginDropped,
            SiteHits = hits,
            CaptureTruncated = (h.Flags & WfConst.EvfBlobTruncated) != 0,
            EvidenceLost = (h.Flags & WfConst.EvfEvidenceLost) != 0,
        };
        ev.Evidence.AddRange(evidence);
        return ev;
    }
}
