using System.Runtime.InteropServices;
using Whyfail.Capture;
using Whyfail.Capture.Bpf;
using Whyfail.Events;
using Xunit;

namespace Whyfail.Tests.Capture;

/// <summary>
/// EventParser on records built byte by byte with the generated layout (the structs of bpf/whyfail.h as
/// the BPF object's BTF lays them out), in the order on_sys_exit writes them: header, evidence, origin
/// records, site hits, blobs.
/// </summary>
public unsafe class EventParserTests
{
    /// <summary>Assembles one ring buffer record the way on_sys_exit does.</summary>
    private sealed class Record
    {
        public WfEvent Header;
        private readonly List<byte> _evidence = [], _origin = [], _pins = [], _blobs = [];

        public Record()
        {
            Header.Type = WfConst.RecSyscall;
            Header.Nr = 257; // openat
            Header.TsNs = 123_456_789_012;
            Header.Ret = -13;
            for (int i = 0; i < WfEvent.Layout.ArgsCount; i++) Header.Args[i] = 0x1000UL * (ulong)(i + 1);
            Header.Tgid = 4242;
            Header.Tid = 4243;
            Header.Uid = 1000;
            Header.Euid = 1001;
            Header.Gid = 100;
            Header.Egid = 101;
            Comm("cat");
        }

        public Record Comm(string comm)
        {
            var b = System.Text.Encoding.UTF8.GetBytes(comm);
            for (int i = 0; i < WfEvent.Layout.CommCount; i++) Header.Comm[i] = i < b.Length ? b[i] : (byte)0;
            return this;
        }

        public Record Evidence(ushort kind, int a, int b, int c, ulong d, ulong e)
        {
            Append(_evidence, new WfEvidence { Kind = kind, A = a, B = b, C = c, D = d, E = e });
            Header.NEvidence++;
            return this;
        }

        public Record Origin(ulong fn, long ret, ulong sp, params ulong[] stack)
        {
            var o = new WfOriginRec { Fn = fn, Ret = ret, Sp = sp };
            for (int i = 0; i < stack.Length; i++) o.Stack[i] = stack[i];
            Append(_origin, o);
            Header.NOrigin++;
            return this;
        }

        public Record Pin(ulong probe, ulong flags)
        {
            Append(_pins, new WfPinRec { Probe = probe, Flags = flags });
            Header.NPin++;
            return this;
        }

        public Record Blob(byte arg, byte kind, byte[]? data, ushort fullLen = 0, ushort index = 0)
        {
            Append(_blobs, new WfBlob { Arg = arg, Kind = kind, Len = data is null ? (ushort)0xffff : (ushort)data.Length, FullLen = fullLen, Index = index });
            if (data is not null)
            {
                _blobs.AddRange(data);
                while (_blobs.Count % 8 != 0) _blobs.Add(0);
            }
            Header.NBlobs++;
            return this;
        }

        public byte[] Bytes()
        {
            var all = new List<byte>();
            Header.Size = (uint)(WfEvent.SizeOf + _evidence.Count + _origin.Count + _pins.Count + _blobs.Count);
            Append(all, Header);
            all.AddRange(_evidence);
            all.AddRange(_origin);
            all.AddRange(_pins);
            all.AddRange(_blobs);
            return [.. all];
        }

        private static void Append<T>(List<byte> to, T value) where T : unmanaged
        {
            var b = new byte[sizeof(T)];
            MemoryMarshal.Write(b, in value);
            to.AddRange(b);
        }
    }

    [Fact]
    public void HeaderFieldsComeFromTheirOffsets()
    {
        var r = new Record();
        r.Header.Flags = (ushort)(WfConst.EvfBlobTruncated | WfConst.EvfEvidenceLost);
        var ev = EventParser.Parse(r.Bytes())!;
        Assert.Equal(257, ev.Nr);
        Assert.Equal(123_456_789_012UL, ev.TimestampNs);
        Assert.Equal(-13, ev.Ret);
        Assert.Equal(-13, ev.KernelRet);
        Assert.Equal([0x1000UL, 0x2000, 0x3000, 0x4000, 0x5000, 0x6000], ev.Args);
        Assert.Equal((4242, 4243), (ev.Pid, ev.Tid));
        Assert.Equal((1000u, 1001u, 100u, 101u), (ev.Uid, ev.Euid, ev.Gid, ev.Egid));
        Assert.Equal("cat", ev.Comm);
        Assert.True(ev.CaptureTruncated);
        Assert.True(ev.EvidenceLost);
        Assert.Empty(ev.Evidence);
        Assert.Empty(ev.OriginRecords);
        Assert.Empty(ev.SiteHits);
        Assert.Empty(ev.Captured);
    }

    [Fact]
    public void TheRawBytesMatchTheGeneratedOffsets()
    {
        // Independent of the struct: the bytes at each generated offset are the field's.
        var bytes = new Record().Bytes();
        Assert.Equal(WfConst.RecSyscall, BitConverter.ToUInt16(bytes, WfEvent.Layout.Type));
        Assert.Equal(257u, BitConverter.ToUInt32(bytes, WfEvent.Layout.Nr));
        Assert.Equal(-13L, BitConverter.ToInt64(bytes, WfEvent.Layout.Ret));
        Assert.Equal(0x6000UL, BitConverter.ToUInt64(bytes, WfEvent.Layout.Args + 5 * 8));
        Assert.Equal(4243u, BitConverter.ToUInt32(bytes, WfEvent.Layout.Tid));
        Assert.Equal((byte)'c', bytes[WfEvent.Layout.Comm]);
        Assert.Equal((uint)bytes.Length, BitConverter.ToUInt32(bytes, WfEvent.Layout.Size));
    }

    [Fact]
    public void AFullCommHasNoTerminator()
    {
        var ev = EventParser.Parse(new Record().Comm("abcdefghijklmnop").Bytes())!;
        Assert.Equal("abcdefghijklmnop", ev.Comm);
    }

    [Fact]
    public void EverySectionInOrder()
    {
        const ulong fn = 0xffffffff81234560, sp = 0xffffc90000123f00;
        var bytes = new Record()
            .Evidence(WfConst.EvCapability, 21, -1, 0, 0, 65534)
            .Evidence(WfConst.EvSignal, 10, 999, 0, 0x10000000, 0)
            .Evidence(77, 1, 2, 3, 4, 5) // a kind this build does not know: skipped, not misread
            .Origin(fn, -13, sp, 0xffffffff81000010, 0xffffffff81000020)
            .Origin(3, -2, sp + 64) // a kprobe cookie: an index into the attach list
            .Pin(5, 0x246)
            .Blob(1, (byte)CaptureKind.String, "/etc/shadow"u8.ToArray())
            .Blob(0, (byte)CaptureKind.StringVector, "ls"u8.ToArray(), 0, 1)
            .Blob(2, (byte)CaptureKind.Sized, null, 300)
            .Bytes();
        var ev = EventParser.Parse(bytes)!;

        Assert.Equal(2, ev.Evidence.Count);
        var cap = Assert.IsType<CapabilityEvidence>(ev.Evidence[0]);
        Assert.Equal((21, -1, 0, 0u, 65534u), (cap.Cap, cap.Ret, cap.UserNsLevel, cap.UserNsOwner, cap.Euid));
        var sig = Assert.IsType<SignalEvidence>(ev.Evidence[1]);
        Assert.Equal((10, 999, 0), (sig.Signal, sig.SenderPid, sig.Result));
        Assert.True(sig.Restart);

        Assert.Equal(2, ev.OriginRecords.Count);
        var o = ev.OriginRecords[0];
        Assert.Equal((fn, false, -13L, sp), (o.Function, o.IsIndex, o.Ret, o.StackPointer));
        Assert.Equal([0xffffffff81000010UL, 0xffffffff81000020], o.Stack);
        Assert.True(ev.OriginRecords[1].IsIndex);
        Assert.Equal(3UL, ev.OriginRecords[1].Function);
        Assert.Empty(ev.OriginRecords[1].Stack);

        Assert.Equal([new SiteHit(5, 0x246)], ev.SiteHits);

        Assert.Equal(3, ev.Captured.Count);
        Assert.Equal("/etc/shadow", System.Text.Encoding.UTF8.GetString(ev.Captured[0].Data!));
        Assert.Equal((1, CaptureKind.String), (ev.Captured[0].Arg, ev.Captured[0].Kind));
        Assert.Equal((0, CaptureKind.StringVector, 1), (ev.Captured[1].Arg, ev.Captured[1].Kind, ev.Captured[1].Index));
        Assert.Equal("ls", System.Text.Encoding.UTF8.GetString(ev.Captured[1].Data!));
        Assert.Null(ev.Captured[2].Data); // unreadable user memory
        Assert.Equal(300, ev.Captured[2].FullLength);
    }

    [Fact]
    public void ARecordShorterThanItsHeaderOrOfAnotherTypeIsNoEvent()
    {
        var bytes = new Record().Bytes();
        Assert.Null(EventParser.Parse(bytes.AsSpan(0, WfEvent.SizeOf - 1)));
        Assert.Null(EventParser.Parse([]));
        var other = new Record();
        other.Header.Type = 0x7777;
        Assert.Null(EventParser.Parse(other.Bytes()));
    }

    [Fact]
    public void ATruncatedRecordKeepsWhatIsWhole()
    {
        var bytes = new Record()
            .Evidence(WfConst.EvCapability, 12, -1, 0, 0, 1000)
            .Evidence(WfConst.EvCapability, 21, -1, 0, 0, 1000)
            .Origin(0xffffffff81234560, -1, 0xffffc90000123f00)
            .Blob(1, (byte)CaptureKind.String, "/a/long/enough/path"u8.ToArray())
            .Bytes();
        int blobAt = WfEvent.SizeOf + 2 * WfEvidence.SizeOf + WfOriginRec.SizeOf;

        // Cut inside the second evidence item: the first is kept, nothing after it is invented.
        var ev = EventParser.Parse(bytes.AsSpan(0, WfEvent.SizeOf + WfEvidence.SizeOf + 5))!;
        Assert.Single(ev.Evidence);
        Assert.Empty(ev.OriginRecords);
        Assert.Empty(ev.Captured);

        // Cut inside the origin record.
        ev = EventParser.Parse(bytes.AsSpan(0, blobAt - 1))!;
        Assert.Equal(2, ev.Evidence.Count);
        Assert.Empty(ev.OriginRecords);

        // Cut inside the blob's data: the blob keeps the bytes that are there.
        ev = EventParser.Parse(bytes.AsSpan(0, blobAt + WfBlob.SizeOf + 6))!;
        Assert.Single(ev.OriginRecords);
        var blob = Assert.Single(ev.Captured);
        Assert.Equal("/a/lon", System.Text.Encoding.UTF8.GetString(blob.Data!));

        // Cut inside the blob header: no blob.
        ev = EventParser.Parse(bytes.AsSpan(0, blobAt + WfBlob.SizeOf - 1))!;
        Assert.Empty(ev.Captured);
    }

    [Fact]
    public void ARepeatedRecordSharesItsPartsAndADifferentOneDoesNot()
    {
        // A flood of one failure: records equal but for the time. The arguments and their memory are the same objects
        // (later stages know a repeat by reference); a record that differs in them gets its own, with its own values.
        static byte[] Make(ulong ts, string path, ulong arg5 = 0x6000)
        {
            var r = new Record().Blob(1, (byte)CaptureKind.String, System.Text.Encoding.UTF8.GetBytes(path));
            r.Header.TsNs = ts;
            r.Header.Args[5] = arg5;
            return r.Bytes();
        }
        var first = EventParser.Parse(Make(1, "/a/missing"))!;
        var again = EventParser.Parse(Make(2, "/a/missing"))!;
        Assert.Equal((1UL, 2UL), (first.TimestampNs, again.TimestampNs));
        Assert.Same(first.Args, again.Args);
        Assert.Same(first.Captured, again.Captured);

        var other = EventParser.Parse(Make(3, "/b/missing", arg5: 7))!;
        Assert.NotSame(first.Captured, other.Captured);
        Assert.NotSame(first.Args, other.Args);
        Assert.Equal("/b/missing", System.Text.Encoding.UTF8.GetString(Assert.Single(other.Captured).Data!));
        Assert.Equal(7UL, other.Args[5]);
        Assert.Equal("/a/missing", System.Text.Encoding.UTF8.GetString(Assert.Single(first.Captured).Data!));
        Assert.Equal(0x6000UL, first.Args[5]);
    }

    [Fact]
    public void TheCaptureKindsAreTheKernelSides()
    {
        Assert.Equal(WfConst.CapNone, (int)CaptureKind.None);
        Assert.Equal(WfConst.CapStr, (int)CaptureKind.String);
        Assert.Equal(WfConst.CapFixed, (int)CaptureKind.Fixed);
        Assert.Equal(WfConst.CapSized, (int)CaptureKind.Sized);
        Assert.Equal(WfConst.CapStrv, (int)CaptureKind.StringVector);
        Assert.Equal(WfConst.CapSizedPtr, (int)CaptureKind.SizedByPointer);
        Assert.Equal(WfConst.CapNested, (int)CaptureKind.Nested);
        Assert.Equal(WfConst.CapEntry, (int)CaptureKind.Entry);
        Assert.Equal(8, Enum.GetValues<CaptureKind>().Length);
    }
}
