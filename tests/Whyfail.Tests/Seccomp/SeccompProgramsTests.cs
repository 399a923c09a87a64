using System.Buffers.Binary;
using Whyfail.Capture;
using Whyfail.Capture.Bpf;
using Whyfail.Events;
using Xunit;

namespace Whyfail.Tests.Seccomp;

/// <summary>
/// The user-space side of WF_REC_SECCOMP (bpf/whyfail.h): records in the kernel's layout, as the ring delivers them, and
/// the chain a failure of each thread gets. The kernel side itself is tested with real filters (ContextTests'
/// seccomp cases, on the host and in the lab).
/// </summary>
public class SeccompProgramsTests : IDisposable
{
    public SeccompProgramsTests() => SeccompPrograms.Clear();

    public void Dispose() => SeccompPrograms.Clear();

    // One record: the header at its generated offsets, then n instructions whose bytes say (filter, index).
    private static byte[] Record(ulong filter, ulong prev, int tid, int len, int first, int n, int flags)
    {
        var r = new byte[WfSeccompRec.Layout.Insns + n * 8];
        BinaryPrimitives.WriteUInt16LittleEndian(r.AsSpan(WfSeccompRec.Layout.Type), (ushort)WfConst.RecSeccomp);
        BinaryPrimitives.WriteUInt16LittleEndian(r.AsSpan(WfSeccompRec.Layout.N), (ushort)n);
        BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(WfSeccompRec.Layout.Size), (uint)r.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(r.AsSpan(WfSeccompRec.Layout.Filter), filter);
        BinaryPrimitives.WriteUInt64LittleEndian(r.AsSpan(WfSeccompRec.Layout.Prev), prev);
        BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(WfSeccompRec.Layout.Tid), (uint)tid);
        BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(WfSeccompRec.Layout.Len), (uint)len);
        BinaryPrimitives.WriteUInt16LittleEndian(r.AsSpan(WfSeccompRec.Layout.First), (ushort)first);
        BinaryPrimitives.WriteUInt16LittleEndian(r.AsSpan(WfSeccompRec.Layout.Flags), (ushort)flags);
        for (int i = 0; i < n; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(WfSeccompRec.Layout.Insns + i * 8), (uint)(filter & 0xffff));
            BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(WfSeccompRec.Layout.Insns + i * 8 + 4), (uint)(first + i));
        }
        return r;
    }

    private static FailureContext Under(int filters) => new() { SeccompMode = 2, SeccompFilters = filters };

    private static int Index(byte[] program, int i) => (int)BinaryPrimitives.ReadUInt32LittleEndian(program.AsSpan(i * 8 + 4));

    [Fact]
    public void AThreadsChainIsOldestFirstAndAFilterInSeveralRecordsIsWhole()
    {
        // newest first, as the kernel walks prev; the older filter in two records (1024 + 476 instructions)
        SeccompPrograms.Add(Record(0xB000, 0xA000, 7, 3, 0, 3, WfConst.SeccompNewest));
        SeccompPrograms.Add(Record(0xA000, 0, 7, 1500, 0, 1024, 0));
        SeccompPrograms.Add(Record(0xA000, 0, 7, 1500, 1024, 476, 0));
        var ctx = SeccompPrograms.Attach(Under(2), 7);
        var snap = Assert.IsType<SeccompSnapshot>(ctx.Seccomp);
        Assert.True(snap.Complete);
        Assert.Equal(0xB000UL, snap.Newest);
        Assert.Equal([1500 * 8, 3 * 8], snap.Programs.Select(p => p!.Length));
        Assert.Equal(1499, Index(snap.Programs[0]!, 1499));
        Assert.Equal(1024, Index(snap.Programs[0]!, 1024));
        // the same chain object for the thread's next failures (one parse, one reuse key)
        Assert.Same(snap, SeccompPrograms.Attach(Under(2), 7).Seccomp);
    }

    [Fact]
    public void ANewFilterIsSentAloneAndTheThreadsChainGrows()
    {
        SeccompPrograms.Add(Record(0xA000, 0, 7, 4, 0, 4, WfConst.SeccompNewest));
        Assert.Single(SeccompPrograms.Attach(Under(1), 7).Seccomp!.Programs);
        // the thread installs another: only the new one is sent, its prev the one sent before
        SeccompPrograms.Add(Record(0xC000, 0xA000, 7, 2, 0, 2, WfConst.SeccompNewest));
        Assert.Equal([4 * 8, 2 * 8], SeccompPrograms.Attach(Under(2), 7).Seccomp!.Programs.Select(p => p!.Length));
        // a forked thread sends its chain again under its own id
        SeccompPrograms.Add(Record(0xC000, 0xA000, 8, 2, 0, 2, WfConst.SeccompNewest));
        SeccompPrograms.Add(Record(0xA000, 0, 8, 4, 0, 4, 0));
        Assert.Equal(0xC000UL, SeccompPrograms.Attach(Under(2), 8).Seccomp!.Newest);
    }

    [Fact]
    public void AChainThatIsNotTheContextsCountOrNotKnownIsNone()
    {
        SeccompPrograms.Add(Record(0xB000, 0xA000, 7, 3, 0, 3, WfConst.SeccompNewest));
        // its older filter never arrived (a lost record)
        Assert.Null(SeccompPrograms.Attach(Under(2), 7).Seccomp);
        SeccompPrograms.Add(Record(0xA000, 0, 7, 3, 0, 3, 0));
        Assert.NotNull(SeccompPrograms.Attach(Under(2), 7).Seccomp);
        // the context says 3 filters: not this chain
        Assert.Null(SeccompPrograms.Attach(Under(3), 7).Seccomp);
        // a thread that sent nothing
        Assert.Null(SeccompPrograms.Attach(Under(2), 9).Seccomp);
        // not filter mode: nothing attached
        var strict = new FailureContext { SeccompMode = 1 };
        Assert.Same(strict, SeccompPrograms.Attach(strict, 7));
    }

    [Fact]
    public void AProgramTheKernelDidNotKeepOrAPartLostLeavesTheChainIncomplete()
    {
        SeccompPrograms.Add(Record(0xB000, 0xA000, 7, 2000, 0, 1024, WfConst.SeccompNewest)); // its second part lost
        SeccompPrograms.Add(Record(0xA000, 0, 7, 0, 0, 0, WfConst.SeccompNoProgram));
        var snap = SeccompPrograms.Attach(Under(2), 7).Seccomp!;
        Assert.False(snap.Complete);
        Assert.All(snap.Programs, Assert.Null);
    }

    [Fact]
    public void AnAddressAnotherFilterTakesLaterIsThatFilterFromItsRecordsOn()
    {
        SeccompPrograms.Add(Record(0xA000, 0, 7, 4, 0, 4, WfConst.SeccompNewest));
        var before = SeccompPrograms.Attach(Under(1), 7).Seccomp!;
        // thread 7 has gone with its filter; thread 12's new filter lands at the same address
        SeccompPrograms.Add(Record(0xA000, 0, 12, 6, 0, 6, WfConst.SeccompNewest));
        var after = SeccompPrograms.Attach(Under(1), 12).Seccomp!;
        Assert.Equal(6 * 8, after.Programs[0]!.Length);
        Assert.NotEqual(before.Serial, after.Serial); // never the same reuse key as the old filter's failures
    }
}
