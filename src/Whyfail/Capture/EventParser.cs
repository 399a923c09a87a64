using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
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
        var repeat = t_repeat ??= new Repeat();
        var args = repeat.ArgsOf(new ReadOnlySpan<ulong>(h.Args, WfEvent.Layout.ArgsCount));
        var comm = new ReadOnlySpan<byte>(h.Comm, WfEvent.Layout.CommCount);
        int nul = comm.IndexOf((byte)0);

        int off = WfEvent.SizeOf;
        // Most records have no evidence, origin records or site hits: no list is allocated for them.
        var evidence = h.NEvidence > 0 ? new List<Evidence>(h.NEvidence) : null;
        for (int k = 0; k < h.NEvidence && off + WfEvidence.SizeOf <= r.Length; k++, off += WfEvidence.SizeOf)
        {
            var e = MemoryMarshal.Read<WfEvidence>(r[off..]);
            switch (e.Kind)
            {
                case WfConst.EvCapability: evidence!.Add(new CapabilityEvidence(e.A, e.B, e.C, (uint)e.D, (uint)e.E)); break;
                case WfConst.EvSignal: evidence!.Add(new SignalEvidence(e.A, e.B, e.C, e.D, pendingBefore: e.C == WfConst.SigPending,
                    handler: e.E == WfConst.SigHandlerUnknown ? null : e.E)); break;
            }
        }
        var origin = h.NOrigin > 0 ? new List<OriginRecord>(h.NOrigin) : null;
        for (int k = 0; k < h.NOrigin && off + WfOriginRec.SizeOf <= r.Length; k++, off += WfOriginRec.SizeOf)
        {
            var o = MemoryMarshal.Read<WfOriginRec>(r[off..]);
            var stack = new List<ulong>(WfOriginRec.Layout.StackCount);
            for (int f = 0; f < WfOriginRec.Layout.StackCount && o.Stack[f] != 0; f++)
                stack.Add(o.Stack[f]);
            origin!.Add(new OriginRecord(o.Fn, o.Fn < KernelHalf, o.Ret, o.Sp, stack));
        }
        var hits = h.NPin > 0 ? new List<SiteHit>(h.NPin) : null;
        for (int k = 0; k < h.NPin && off + WfPinRec.SizeOf <= r.Length; k++, off += WfPinRec.SizeOf)
        {
            var p = MemoryMarshal.Read<WfPinRec>(r[off..]);
            hits!.Add(new SiteHit((int)p.Probe, p.Flags));
        }
        FailureContext? context = null;
        if ((h.Flags & WfConst.EvfContext) != 0 && off + ContextParser.HeaderSize <= r.Length)
        {
            int size = (int)BinaryPrimitives.ReadUInt32LittleEndian(r[off..]);
            context = repeat.ContextOf(r.Slice(off, Math.Min(size, r.Length - off)));
            if (context is { SeccompMode: 2 }) context = SeccompPrograms.Attach(context, (int)h.Tid);
            if (context != null) ContextParser.KeepBase((int)h.Tid, MemoryMarshal.Read<WfContext>(r[off..]).Seq, context, h.TsNs);
            off += size;
        }
        else if ((h.Flags & WfConst.EvfContextSame) != 0 && off + WfCtxRef.SizeOf <= r.Length)
        {
            // "Same context as before": the thread's base context, as its earlier record carried it (null if not seen).
            var same = MemoryMarshal.Read<WfCtxRef>(r[off..]);
            context = ContextParser.BaseOf((int)h.Tid, same.Seq, h.TsNs);
            off += (int)Math.Max(same.Size, (uint)WfCtxRef.SizeOf);
        }
        var blobs = repeat.BlobsOf(r[Math.Min(off, r.Length)..], h.NBlobs) ?? ParseBlobs(r, off, h.NBlobs);
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
            Comm = RecentComm(nul >= 0 ? comm[..nul] : comm),
            CgroupId = h.CgroupId,
            Captured = blobs,
            OriginRecords = (IReadOnlyList<OriginRecord>?)origin ?? [],
            OriginDropped = h.OriginDropped,
            SiteHits = (IReadOnlyList<SiteHit>?)hits ?? [],
            CaptureTruncated = (h.Flags & WfConst.EvfBlobTruncated) != 0,
            EvidenceLost = (h.Flags & WfConst.EvfEvidenceLost) != 0,
            FollowUp = (h.Flags & WfConst.EvfFollowup) != 0,
            Context = context,
        };
        if ((h.Flags & WfConst.EvfDataError) != 0 && DataError(ev) is int err)
        {
            // getsockopt(SO_ERROR) returned a pending error: a failure of its own, delivered as data.
            ev.Ret = -err;
            ev.ErrorAsData = true;
        }
        if (evidence != null) ev.Evidence.AddRange(evidence);
        return ev;
    }

    /// <summary>The wf_blob records from <paramref name="off"/> on, as far as the record has them.</summary>
    private static List<CapturedArg> ParseBlobs(ReadOnlySpan<byte> r, int off, int n)
    {
        var blobs = new List<CapturedArg>(n);
        int start = off;
        for (int k = 0; k < n && off + WfBlob.SizeOf <= r.Length; k++)
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
        if (t_repeat is { } repeat) repeat.KeepBlobs(r[Math.Min(start, r.Length)..], n, blobs);
        return blobs;
    }

    /// <summary>The record type (WF_REC_*), or 0 when the record is too short to have one.</summary>
    public static ushort RecordType(ReadOnlySpan<byte> r) => r.Length >= 2 ? MemoryMarshal.Read<ushort>(r) : (ushort)0;

    /// <summary>struct wf_exit_rec: the end of a traced thread group.</summary>
    public static ProcessExit? ParseExit(ReadOnlySpan<byte> r)
    {
        if (r.Length < WfExitRec.SizeOf) return null;
        var x = MemoryMarshal.Read<WfExitRec>(r);
        if (x.Type != WfConst.RecExit) return null;
        return new ProcessExit(x.TsNs, (int)x.Tgid, (int)x.Tid, (int)x.Ppid, x.ExitCode, Comm(new ReadOnlySpan<byte>(x.Comm, WfExitRec.Layout.CommCount)));
    }

    /// <summary>struct wf_message_rec: a write to standard error (or output) and its first bytes.</summary>
    public static MessageWrite? ParseMessage(ReadOnlySpan<byte> r)
    {
        if (r.Length < WfMessageRec.Layout.Data) return null;
        var m = MemoryMarshal.Read<WfMessageRec>(r.Length >= WfMessageRec.SizeOf ? r : Padded(r));
        if (m.Type != WfConst.RecMessage) return null;
        int len = Math.Min(Math.Min((int)m.Len, WfConst.MessageMax), r.Length - WfMessageRec.Layout.Data);
        int nr = (int)m.Nr;
        return new MessageWrite(m.TsNs, (int)m.Tgid, (int)m.Tid, (int)m.Fd, Decoding.SyscallTable.Name(nr) ?? $"syscall_{nr}", m.Ret,
            Comm(new ReadOnlySpan<byte>(m.Comm, WfMessageRec.Layout.CommCount)), r.Slice(WfMessageRec.Layout.Data, Math.Max(len, 0)).ToArray());
    }

    private static byte[] Padded(ReadOnlySpan<byte> r)
    {
        var b = new byte[WfMessageRec.SizeOf];
        r.CopyTo(b);
        return b;
    }

    /// <summary>The error value getsockopt stored (its optval, captured as arg 3), when it is one.</summary>
    private static int? DataError(SyscallEvent ev) =>
        ev.Capture(3)?.Data is { Length: >= 4 } d && System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(d) is > 0 and < 4096 and var v ? v : null;

    /// <summary>
    /// The parts of the last syscall record parsed (on this thread) that a repeat shares: a flood of one failure (a loop
    /// retrying a missing file) sends the same arguments, argument memory and context again and again. An equal part is
    /// the same (immutable) object as the one before, not a copy: no allocation or parsing per event for it, and the
    /// later stages (decoding, the verdict's subject, the JSON of the context) know a repeat by reference.
    /// </summary>
    [ThreadStatic] private static Repeat? t_repeat;

    private sealed class Repeat
    {
        private ulong[] _args = [];
        private byte[] _context = [];
        private FailureContext? _contextParsed;
        private byte[] _blobs = [];
        private int _nBlobs = -1;
        private List<CapturedArg>? _blobsParsed;

        public ulong[] ArgsOf(ReadOnlySpan<ulong> args)
        {
            if (!args.SequenceEqual(_args)) _args = args.ToArray();
            return _args;
        }

        public FailureContext? ContextOf(ReadOnlySpan<byte> raw)
        {
            if (_contextParsed != null && raw.SequenceEqual(_context)) return _contextParsed;
            var parsed = ContextParser.Parse(raw);
            (_context, _contextParsed) = parsed != null ? (raw.ToArray(), parsed) : ([], null);
            return parsed;
        }

        public List<CapturedArg>? BlobsOf(ReadOnlySpan<byte> raw, int n) =>
            _blobsParsed != null && n == _nBlobs && raw.SequenceEqual(_blobs) ? _blobsParsed : null;

        public void KeepBlobs(ReadOnlySpan<byte> raw, int n, List<CapturedArg> parsed)
        {
            // Large captures (a write's buffer, argv) are rarely repeated: only small ones are kept to compare.
            if (raw.Length > 1024) { _blobsParsed = null; return; }
            (_blobs, _nBlobs, _blobsParsed) = (raw.ToArray(), n, parsed);
        }
    }

    /// <summary>The last comm decoded (on this thread): a flood of events of one process makes one string, not one each.</summary>
    [ThreadStatic] private static (byte[] Bytes, string Text)? t_comm;

    private static string RecentComm(ReadOnlySpan<byte> b)
    {
        if (t_comm is { } last && b.SequenceEqual(last.Bytes)) return last.Text;
        string text = Encoding.UTF8.GetString(b);
        t_comm = (b.ToArray(), text);
        return text;
    }

    private static string Comm(ReadOnlySpan<byte> b)
    {
        int nul = b.IndexOf((byte)0);
        return Encoding.UTF8.GetString(nul >= 0 ? b[..nul] : b);
    }
}
