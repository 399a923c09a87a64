using Whyfail.Analysis.Origin.Resolve;
using Whyfail.Events;
using Xunit;

namespace Whyfail.Tests.Origin;

/// <summary>
/// Origins from fexit stacks (Debian 6.1's backend), on the records the 6.1 lab recorded for the corpus cases
/// setns_netns_unprivileged, setns_not_a_namespace and write_tmpfs_full (bench/origins, run of 19:01 UTC on e54fa8a):
/// the frames as whyfail printed them in origin_records, each function placed at its own address here. Under fexit a
/// record's stack opens with the BPF program, the trampoline (no name: made after kallsyms was read) and the watched
/// function's own entry ("fn+0x5"); a wrapper that jumps into the function below it (__x64_sys_setns →
/// __do_sys_setns) has no frame of its own on the stacks of its callees.
/// </summary>
public class FexitStackTests
{
    private const long EPERM = -1, EBADF = -9, EINVAL = -22, ENOSPC = -28;

    // Addresses below 0x1000 have no symbol: the BPF programs and trampolines.
    private const ulong Prog = 0x100, Tramp = 0x200, Tramp2 = 0x300, Tramp3 = 0x400, Tramp4 = 0x500;

    private static readonly TableSymbols Syms = new(new()
    {
        [0x1000] = "entry_SYSCALL_64_after_hwframe", [0x2000] = "do_syscall_64", [0x3000] = "__x64_sys_setns",
        [0x4000] = "__do_sys_setns", [0x5000] = "netns_install", [0x6000] = "ns_capable", [0x7000] = "security_capable",
        [0x8000] = "cap_capable", [0x9000] = "pidfd_pid",
        [0x10000] = "__x64_sys_write", [0x11000] = "ksys_write", [0x12000] = "vfs_write", [0x13000] = "generic_file_write_iter",
        [0x14000] = "__generic_file_write_iter", [0x15000] = "generic_perform_write", [0x16000] = "shmem_write_begin",
        [0x17000] = "shmem_get_folio_gfp", [0x18000] = "shmem_alloc_and_acct_folio", [0x19000] = "shmem_unused_huge_shrink",
        [0x20000] = "ftrace_trampoline", [0x21000] = "__x64_sys_connect", [0x22000] = "__sys_connect",
        [0x23000] = "__sys_connect_file", [0x24000] = "inet_stream_connect", [0x25000] = "__inet_stream_connect",
    });

    /// <summary>Return types as in Debian 6.1's BTF.</summary>
    private sealed class Kinds : IReturnKinds
    {
        public bool CannotCarryErrno(string f) => f == "ns_capable";
        public bool CanCarryErrno(string f) => f != "ns_capable";
        public string? ReturnType(string f) => f == "ns_capable" ? "bool" : f == "shmem_unused_huge_shrink" ? "unsigned long" : "int";
    }

    private sealed class Facts(Dictionary<string, CalleeFacts> table) : ICalleeFacts
    {
        public CalleeFacts? Of(string function, int errno) => table.GetValueOrDefault(function);
    }

    private static OriginRecord Rec(int index, long ret, ulong sp, params ulong[] stack) => new((ulong)index, true, ret, sp, stack);

    // __x64_sys_setns+0x5 (its entry, under its trampoline), do_syscall_64+0x5d, entry_SYSCALL_64_after_hwframe+0x6e.
    private static readonly ulong[] SetnsEntry = [Tramp3, 0x3005, 0x205d, 0x106e];

    [Fact]
    public void ABoolCheckBetweenTheWatchedFunctionsIsSeenThroughTheTrampolineFrames()
    {
        // setns(netns fd) as nobody: netns_install → ns_capable (bool) → security_capable → cap_capable (-EPERM);
        // netns_install makes -EPERM anew. The outer record (__x64_sys_setns) shares no frame with the inner ones but
        // its caller, do_syscall_64+0x5d, behind its BPF program, trampoline and entry.
        var ev = new SyscallEvent
        {
            Syscall = "setns", Ret = EPERM, KernelRet = EPERM,
            OriginRecords =
            [
                Rec(0, EPERM, 0xe000, [Prog, Tramp, 0x8005, 0x7040, Tramp2, 0x7005, 0x602b, 0x5027, 0x4171, .. SetnsEntry]),
                Rec(1, EPERM, 0xe098, [Prog, Tramp2 + 0x33, 0x7005, 0x602b, 0x5027, 0x4171, .. SetnsEntry]),
                Rec(2, EPERM, 0xe1a0, [Prog, Tramp3 + 0x33, 0x3005, 0x205d, 0x106e]),
            ],
        };
        var o = new OriginResolver(Syms, ["cap_capable", "security_capable", "__x64_sys_setns"], "fexit", returnKinds: new Kinds()).Resolve(ev)!;
        Assert.Equal("netns_install", o.Function);
        Assert.True(o.Inferred);
        Assert.Equal("medium", o.Confidence);
        Assert.Equal(0x27, o.Offset); // where it called ns_capable
        Assert.Equal(["netns_install", "__do_sys_setns", "__x64_sys_setns"], o.Chain);
        Assert.Contains(o.Inner, i => i == "ns_capable (returns bool)");
    }

    [Fact]
    public void AWrapperThatJumpedIsPlacedAboveTheUnwatchedFunctionOnFexitStacksToo()
    {
        // setns(fd of a plain file): pidfd_pid's -EBADF becomes -EINVAL in __do_sys_setns (not watchable).
        var ev = new SyscallEvent
        {
            Syscall = "setns", Ret = EINVAL, KernelRet = EINVAL,
            OriginRecords =
            [
                Rec(1, EBADF, 0xe000, [Prog, Tramp, 0x9005, 0x40be, .. SetnsEntry]),
                Rec(0, EINVAL, 0xe0b8, [Prog, Tramp3 + 0x33, 0x3005, 0x205d, 0x106e]),
            ],
        };
        var facts = new Facts(new()
        {
            ["__x64_sys_setns"] = new(["__do_sys_setns"], 0, false),
            ["__do_sys_setns"] = new(["pidfd_pid", "proc_ns_file"], 0, true),
        });
        var o = new OriginResolver(Syms, ["__x64_sys_setns", "pidfd_pid"], "fexit", returnKinds: new Kinds(), callees: facts).Resolve(ev)!;
        Assert.Equal("__do_sys_setns", o.Function);
        Assert.Equal("medium", o.Confidence);
        Assert.Equal(["__do_sys_setns", "__x64_sys_setns"], o.Chain);
    }

    [Fact]
    public void AnFtraceTrampolineFrameIsNoLinkOfTheChain()
    {
        // connect refused (6.1, fexit), with the outer functions entered through the ftrace trampoline (a function
        // watched by fexit and a kprobe at once): that frame and the entry above it are machinery, not callers.
        // (The 6.1 records of the corpus's connect_refused, with ftrace_trampoline frames added where they show then.)
        const long ECONNREFUSED = -111;
        ulong[] top = [0x20100, 0x21005, 0x205d, 0x106e];
        var ev = new SyscallEvent
        {
            Syscall = "connect", Ret = ECONNREFUSED, KernelRet = ECONNREFUSED,
            OriginRecords =
            [
                Rec(0, ECONNREFUSED, 0xe000, [Prog, Tramp, 0x25005, 0x24036, Tramp2, 0x24005, Tramp3, 0x23005, 0x220a4, Tramp4, 0x22005, 0x21014, .. top]),
                Rec(1, ECONNREFUSED, 0xe098, [Prog, Tramp2 + 0x33, 0x24005, Tramp3, 0x23005, 0x220a4, Tramp4, 0x22005, 0x21014, .. top]),
                Rec(2, ECONNREFUSED, 0xe100, [Prog, Tramp3 + 0x33, 0x23005, 0x220a4, Tramp4, 0x22005, 0x21014, .. top]),
                Rec(3, ECONNREFUSED, 0xe220, [Prog, Tramp4 + 0x33, 0x22005, 0x21014, .. top]),
                Rec(4, ECONNREFUSED, 0xe288, [Prog, 0x20133, 0x21005, 0x205d, 0x106e]),
            ],
        };
        string[] watched = ["__inet_stream_connect", "inet_stream_connect", "__sys_connect_file", "__sys_connect", "__x64_sys_connect"];
        var o = new OriginResolver(Syms, watched, "fexit", returnKinds: new Kinds()).Resolve(ev)!;
        Assert.Equal("__inet_stream_connect", o.Function);
        Assert.Equal(watched, o.Chain);
        Assert.DoesNotContain(o.Stack, f => f.StartsWith("ftrace_trampoline", StringComparison.Ordinal));
    }

    [Fact]
    public void AnEarlierCalleeWithTheSyscallsValueWinsOverALaterHandledOne()
    {
        // write into a full tmpfs (6.1, second failure, shmem_alloc_and_acct_folio watched after the first):
        // shmem_get_folio_gfp's allocation fails with -ENOSPC, shmem_unused_huge_shrink then has nothing to free
        // (SHRINK_STOP, ~0UL: -1 as a return value), twice, and shmem_write_begin returns the -ENOSPC.
        ulong[] up = [0x16065, Tramp, 0x16005, 0x150d8, 0x140ca, 0x13061, 0x12235, Tramp2, 0x12005, 0x1106b, Tramp3, 0x11005];
        ulong[] alloc = [Prog, Tramp4, 0x18005, 0x17315, .. up];
        ulong[] shrink = [Prog + 0x10, Tramp4 + 0x10, 0x19005, 0x1769e, .. up];
        ulong[] top = [Tramp4 + 0x20, 0x10005, 0x205d, 0x106e];
        var ev = new SyscallEvent
        {
            Syscall = "write", Ret = ENOSPC, KernelRet = ENOSPC,
            OriginRecords =
            [
                Rec(0, ENOSPC, 0xd010, alloc), Rec(1, EPERM, 0xd018, shrink), Rec(0, ENOSPC, 0xd010, alloc), Rec(1, EPERM, 0xd018, shrink),
                Rec(2, ENOSPC, 0xd158, [Prog, Tramp + 0x33, 0x16005, 0x150d8, 0x140ca, 0x13061, 0x12235, Tramp2, 0x12005, 0x1106b, Tramp3, 0x11005, .. top]),
                Rec(3, ENOSPC, 0xd348, [Prog, Tramp2 + 0x33, 0x12005, 0x1106b, Tramp3, 0x11005, .. top]),
                Rec(4, ENOSPC, 0xd3e8, [Prog, Tramp3 + 0x33, 0x11005, .. top]),
                Rec(5, ENOSPC, 0xd448, [Prog, Tramp4 + 0x53, 0x10005, 0x205d, 0x106e]),
            ],
        };
        string[] watched = ["shmem_alloc_and_acct_folio", "shmem_unused_huge_shrink", "shmem_write_begin", "vfs_write", "ksys_write", "__x64_sys_write"];
        var resolver = new OriginResolver(Syms, watched, "fexit", returnKinds: new Kinds());
        resolver.Proposed(["shmem_alloc_and_acct_folio"], "kernel_stack");
        var o = resolver.Resolve(ev)!;
        Assert.Equal("shmem_alloc_and_acct_folio", o.Function);
        Assert.False(o.Inferred);
        Assert.Equal("zoom", o.FoundBy);
        Assert.Equal("medium", o.Confidence); // a failure after it was passed over: not demonstrably the origin
        Assert.Equal(["shmem_alloc_and_acct_folio", "shmem_get_folio_gfp", "shmem_write_begin"], o.Chain.Take(3));
        Assert.Contains(o.ErrnoChanges, c => c.Contains("shmem_unused_huge_shrink returned -EPERM after shmem_alloc_and_acct_folio returned -ENOSPC"));

        // The later callee's value is the syscall's when no earlier one returned it: it stays the origin's way.
        var alone = new SyscallEvent
        {
            Syscall = "write", Ret = ENOSPC, KernelRet = ENOSPC,
            OriginRecords = [Rec(1, EPERM, 0xd018, shrink), .. ev.OriginRecords.Skip(4)],
        };
        var o2 = new OriginResolver(Syms, watched, "fexit", returnKinds: new Kinds()).Resolve(alone)!;
        Assert.NotEqual("shmem_alloc_and_acct_folio", o2.Function);
        Assert.Empty(o2.ErrnoChanges.Where(c => c.Contains("taken as handled")));
    }
}
