using Whyfail.Analysis.Origin.Resolve;
using Whyfail.Events;
using Whyfail.Tests.Origin;
using Xunit;

namespace Whyfail.Tests.Integration;

/// <summary>The chain logic of origin resolution, on records shaped like the ones real kernels produced in the lab.</summary>
public class OriginResolverTests
{
    // Functions at 0x1000 steps; return addresses are inside their callers.
    private static readonly TableSymbols Syms = new(new()
    {
        [0x1000] = "entry_SYSCALL_64", [0x2000] = "do_syscall_64", [0x3000] = "__x64_sys_perf_event_open",
        [0x4000] = "__do_sys_perf_event_open", [0x5000] = "perf_copy_attr", [0x6000] = "perf_sibling",
    });

    private static readonly string[] Attached = ["__x64_sys_perf_event_open", "perf_copy_attr", "perf_sibling"];

    private static OriginRecord Rec(int index, long ret, ulong sp, params ulong[] stack) => new((ulong)index, true, ret, sp, stack);

    [Fact]
    public void ATailCallingOuterFunctionStillChainsItsCallee()
    {
        // Seen on Debian 6.12: __x64_sys_perf_event_open jumps to __do_sys_perf_event_open, so its name is
        // not in perf_copy_attr's stack; the shared caller frames tie them together.
        var ev = new SyscallEvent
        {
            Ret = -22, KernelRet = -22,
            OriginRecords =
            [
                Rec(1, -22, 0xff00, 0x4058, 0x2087, 0x1076),
                Rec(0, -22, 0xff80, 0x2087, 0x1076),
            ],
        };
        var o = new OriginResolver(Syms, Attached, "test").Resolve(ev)!;
        Assert.Equal("perf_copy_attr", o.Function);
        // __do_sys_perf_event_open is not watched: it comes from perf_copy_attr's stack.
        Assert.Equal(["perf_copy_attr", "__do_sys_perf_event_open", "__x64_sys_perf_event_open"], o.Chain);
        Assert.Equal([true, false, true], o.ChainWatched);
        Assert.Equal("high", o.Confidence);
    }

    [Fact]
    public void AHandledFailureInASiblingCallIsNotTheOrigin()
    {
        // perf_sibling failed earlier from another call site of the same parent and was handled;
        // perf_copy_attr's failure is the one that climbed out.
        var ev = new SyscallEvent
        {
            Ret = -22, KernelRet = -22,
            OriginRecords =
            [
                Rec(2, -2, 0xff00, 0x4010, 0x2087, 0x1076),
                Rec(1, -22, 0xff00, 0x4058, 0x2087, 0x1076),
                Rec(0, -22, 0xff80, 0x2087, 0x1076),
            ],
        };
        var o = new OriginResolver(Syms, Attached, "test").Resolve(ev)!;
        Assert.Equal("perf_copy_attr", o.Function);
        Assert.DoesNotContain("perf_sibling", o.Chain);
    }

    [Fact]
    public void AChangedErrnoIsReported()
    {
        var ev = new SyscallEvent
        {
            Ret = -13, KernelRet = -13,
            OriginRecords =
            [
                Rec(1, -2, 0xff00, 0x4058, 0x2087, 0x1076),
                Rec(0, -13, 0xff80, 0x2087, 0x1076),
            ],
        };
        var o = new OriginResolver(Syms, Attached, "test").Resolve(ev)!;
        Assert.Equal("__x64_sys_perf_event_open", o.Function);
        Assert.Contains(o.Inner, s => s.StartsWith("perf_copy_attr"));
        Assert.Contains(o.ErrnoChanges, s => s.Contains("perf_copy_attr returned -ENOENT"));
    }
}
