using System.Runtime.InteropServices;
using Whyfail.Capture.Bpf;
using Whyfail.Events;

namespace Whyfail.Capture.Origin;

/// <summary>
/// --args: struct wf_origin_args records (a function's arguments, sent with each origin record) kept per
/// thread until that thread's next syscall record, then paired with its origin records by number. Bounded:
/// per thread only the latest <see cref="WfConst.MaxOrigin"/> numbers (the syscall record keeps no more), and
/// at most <see cref="MaxThreads"/> threads waiting.
/// </summary>
public sealed unsafe class OriginArgsRecords
{
    public const int MaxThreads = 4096;
    private readonly Dictionary<int, Dictionary<uint, (WfOriginArgs Rec, OriginCallArgs Args)>> _byTid = [];

    /// <summary>Bytes read behind each pointer argument (the stride of <see cref="OriginCallArgs.Data"/>).</summary>
    public const int ArgBytes = WfConst.OriginArgBytes;

    /// <summary>Keeps one record; false when it is short or not one.</summary>
    public bool Add(ReadOnlySpan<byte> r)
    {
        if (r.Length < WfOriginArgs.SizeOf) return false;
        var a = MemoryMarshal.Read<WfOriginArgs>(r);
        if (a.Type != WfConst.RecOriginArgs) return false;
        int tid = (int)a.Tid;
        if (!_byTid.TryGetValue(tid, out var bySeq))
        {
            if (_byTid.Count >= MaxThreads) _byTid.Remove(_byTid.Keys.First());
            _byTid[tid] = bySeq = [];
        }
        var values = new ulong[WfOriginArgs.Layout.ArgsCount];
        for (int i = 0; i < values.Length; i++) values[i] = a.Args[i];
        var data = r.Slice(WfOriginArgs.Layout.Data, WfOriginArgs.Layout.DataCount).ToArray();
        uint read = 0;
        for (int i = 0; i < WfConst.OriginNargs; i++)
            if ((a.ReadOk & (1u << (i + WfConst.OriginUserRead))) != 0) read |= 1u << i;
        bySeq[a.Seq] = (a, new OriginCallArgs(values, a.ReadOk & ((1u << WfConst.OriginNargs) - 1), read, data, ArgBytes, a.EntrySeen != 0));
        // A later call of the thread reuses the numbers: drop what cannot be among the latest kept.
        uint seq = a.Seq;
        if (bySeq.Count > WfConst.MaxOrigin)
            foreach (var old in bySeq.Keys.Where(s => s + WfConst.MaxOrigin <= seq).ToList()) bySeq.Remove(old);
        return true;
    }

    /// <summary>The arguments of each of the event's origin records (null where none came), and forgets the thread's.</summary>
    public void Pair(SyscallEvent ev)
    {
        if (!_byTid.Remove(ev.Tid, out var bySeq) || ev.OriginRecords.Count == 0) return;
        var list = new OriginCallArgs?[ev.OriginRecords.Count];
        for (int k = 0; k < list.Length; k++)
        {
            var o = ev.OriginRecords[k];
            // The record of the same error return: same number, function, value and stack address.
            if (bySeq.TryGetValue((uint)(ev.OriginDropped + k), out var a) && a.Rec.Fn == o.Function && a.Rec.Ret == o.Ret && a.Rec.Sp == o.StackPointer)
                list[k] = a.Args;
        }
        ev.OriginArgs = list;
    }
}
