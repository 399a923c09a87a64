using System.Buffers.Binary;
using System.Text;
using Whyfail.Analysis.Evidence;
using Whyfail.Events;

namespace Whyfail.Capture;

/// <summary>Turns one ring buffer record (struct wf_event and what follows it) into a <see cref="SyscallEvent"/>.</summary>
public static class EventParser
{
    public const int HeaderSize = 128, EvidenceSize = 32, OriginSize = 152, PinSize = 16, OriginStack = 16, BlobHeaderSize = 8;
    /// <summary>Kernel text addresses have the top bit set; attach-list indexes (kprobe cookies) are small.</summary>
    private const ulong KernelHalf = 1UL << 63;
    private const ushort RecSyscall = 1;
    private const ushort EvfBlobTruncated = 1, EvfEvidenceLost = 2;
    /// <summary>WF_BLOB_FAULTED: the copy stopped at an unreadable page (the data is the readable prefix).</summary>
    private const int BlobFaulted = 0x80;
    private const ushort EvCapability = 1, EvSignal = 2;

    public static SyscallEvent? Parse(ReadOnlySpan<byte> r)
    {
        if (r.Length < HeaderSize) return null;
        ushort type = U16(r, 0);
        if (type != RecSyscall) return null;
        int nBlobs = U16(r, 2), nEvidence = U16(r, 4);
        ushort flags = U16(r, 6);
        var args = new ulong[6];
        for (int i = 0; i < 6; i++) args[i] = BinaryPrimitives.ReadUInt64LittleEndian(r[(40 + 8 * i)..]);
        var commBytes = r.Slice(112, 16);
        int nul = commBytes.IndexOf((byte)0);
        var evidence = new List<Evidence>(nEvidence);
        int off = HeaderSize;
        for (int k = 0; k < nEvidence && off + EvidenceSize <= r.Length; k++, off += EvidenceSize)
        {
            var e = r.Slice(off, EvidenceSize);
            int a = I32(e, 4), b = I32(e, 8), c = I32(e, 12);
            ulong d = BinaryPrimitives.ReadUInt64LittleEndian(e[16..]), x = BinaryPrimitives.ReadUInt64LittleEndian(e[24..]);
            switch (U16(e, 0))
            {
                case EvCapability: evidence.Add(new CapabilityEvidence(a, b, c, (uint)d, (uint)x)); break;
                case EvSignal: evidence.Add(new SignalEvidence(a, b, c, d)); break;
            }
        }
        int nOrigin = U16(r, 24), originDropped = U16(r, 26);
        var origin = new List<OriginRecord>(nOrigin);
        for (int k = 0; k < nOrigin && off + OriginSize <= r.Length; k++, off += OriginSize)
        {
            var o = r.Slice(off, OriginSize);
            ulong fn = BinaryPrimitives.ReadUInt64LittleEndian(o);
            var stack = new List<ulong>(OriginStack);
            for (int f = 0; f < OriginStack; f++)
            {
                ulong a = BinaryPrimitives.ReadUInt64LittleEndian(o[(24 + 8 * f)..]);
                if (a == 0) break;
                stack.Add(a);
            }
            origin.Add(new OriginRecord(fn, fn < KernelHalf,
                BinaryPrimitives.ReadInt64LittleEndian(o[8..]), BinaryPrimitives.ReadUInt64LittleEndian(o[16..]), stack));
        }
        int nPin = U16(r, 28);
        var hits = new List<SiteHit>(nPin);
        for (int k = 0; k < nPin && off + PinSize <= r.Length; k++, off += PinSize)
            hits.Add(new SiteHit((int)BinaryPrimitives.ReadUInt64LittleEndian(r[off..]), BinaryPrimitives.ReadUInt64LittleEndian(r[(off + 8)..])));
        var blobs = new List<CapturedArg>(nBlobs);
        for (int k = 0; k < nBlobs && off + BlobHeaderSize <= r.Length; k++)
        {
            int arg = r[off], kind = r[off + 1], len = U16(r, off + 2), full = U16(r, off + 4), index = U16(r, off + 6);
            off += BlobHeaderSize;
            byte[]? data = null;
            if (len != 0xffff)
            {
                len = Math.Min(len, r.Length - off);
                data = r.Slice(off, len).ToArray();
                off += (len + 7) & ~7;
            }
            blobs.Add(new CapturedArg(arg, (CaptureKind)(kind & ~BlobFaulted), index, data, full, (kind & BlobFaulted) != 0));
        }
        var ev = new SyscallEvent
        {
            Nr = (int)U32(r, 12),
            TimestampNs = BinaryPrimitives.ReadUInt64LittleEndian(r[16..]),
            Ret = BinaryPrimitives.ReadInt64LittleEndian(r[32..]),
            KernelRet = BinaryPrimitives.ReadInt64LittleEndian(r[32..]),
            Args = args,
            Pid = (int)U32(r, 88),
            Tid = (int)U32(r, 92),
            Uid = U32(r, 96),
            Euid = U32(r, 100),
            Gid = U32(r, 104),
            Egid = U32(r, 108),
            Comm = Encoding.UTF8.GetString(nul >= 0 ? commBytes[..nul] : commBytes),
            Captured = blobs,
            OriginRecords = origin,
            OriginDropped = originDropped,
            SiteHits = hits,
            CaptureTruncated = (flags & EvfBlobTruncated) != 0,
            EvidenceLost = (flags & EvfEvidenceLost) != 0,
        };
        ev.Evidence.AddRange(evidence);
        return ev;
    }

    private static ushort U16(ReadOnlySpan<byte> r, int o) => BinaryPrimitives.ReadUInt16LittleEndian(r[o..]);
    private static uint U32(ReadOnlySpan<byte> r, int o) => BinaryPrimitives.ReadUInt32LittleEndian(r[o..]);
    private static int I32(ReadOnlySpan<byte> r, int o) => BinaryPrimitives.ReadInt32LittleEndian(r[o..]);
}
