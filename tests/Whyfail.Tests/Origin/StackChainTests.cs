using Whyfail.Analysis.Origin.Resolve;
using Whyfail.Events;
using Xunit;

namespace Whyfail.Tests.Origin;

/// <summary>
/// Origins behind indirect calls, on records copied from the lab: writing /proc/sys/kernel/ns_last_pid
/// as nobody (EPERM). Watched: the capability hooks and the static call graph of write; not watched:
/// proc_sys_call_handler and pid_ns_ctl_handler (reached through f_op->write_iter and ->proc_handler).
/// </summary>
public class StackChainTests
{
    /// <summary>Return types as in Debian's 6.1 and 6.12 BTF.</summary>
    private sealed class Kinds : IReturnKinds
    {
        private static readonly HashSet<string> Bool = ["ns_capable", "capable"];
        private static readonly HashSet<string> Errno = ["cap_capable", "security_capable", "pid_ns_ctl_handler", "proc_sys_call_handler", "vfs_write", "ksys_write", "__x64_sys_write"];
        public bool CannotCarryErrno(string f) => Bool.Contains(f);
        public bool CanCarryErrno(string f) => Errno.Contains(f);
        public string? ReturnType(string f) => Bool.Contains(f) ? "bool" : Errno.Contains(f) ? "int" : null;
    }

    private static readonly TableSymbols Syms = new(new()
    {
        [0x1000] = "entry_SYSCALL_64_after_hwframe", [0x2000] = "do_syscall_64", [0x3000] = "__x64_sys_write",
        [0x4000] = "ksys_write", [0x5000] = "vfs_write", [0x6000] = "proc_sys_call_handler", [0x7000] = "pid_ns_ctl_handler",
        [0x8000] = "ns_capable", [0x9000] = "security_capable", [0xa000] = "cap_capable",
        [0xb000] = "bpf_prog_e13577876130857e_wf_origin", [0xc000] = "bpf_trampoline_6442482125",
        [0xd000] = "bpf_trampoline_6442539515", [0xe000] = "bpf_trampoline_6442462546", [0xf000] = "bpf_trampoline_6442462540",
    });

    private static OriginRecord Rec(int index, ulong sp, params ulong[] stack) => new((ulong)index, true, -1, sp, stack);

    // Debian 6.12, kretprobe.multi: the stacks start at the caller.
    private static readonly ulong[] FromPidNs = [0x70a2, 0x61bf, 0x528f, 0x406f, 0x2087, 0x1076];

    private static SyscallEvent KretprobeEvent(params OriginRecord[] extra) => new()
    {
        Ret = -1, KernelRet = -1,
        OriginRecords =
        [
            Rec(0, 0xef00, [0x9165, 0x802a, .. FromPidNs]),
            Rec(1, 0xef28, [0x802a, .. FromPidNs]),
            .. extra,
            Rec(2, 0xf098, 0x406f, 0x2087, 0x1076),
            Rec(3, 0xf0d0, 0x2087, 0x1076),
            Rec(4, 0xf0d0, 0x2087, 0x1076),
        ],
    };

    private static readonly string[] Watched = ["cap_capable", "security_capable", "vfs_write", "ksys_write", "__x64_sys_write"];

    [Fact]
    public void AnErrnoMadeAnewAboveABoolCheckIsPlacedThereFromTheStack()
    {
        var resolver = new OriginResolver(Syms, Watched, "test", returnKinds: new Kinds());
        var o = resolver.Resolve(KretprobeEvent())!;
        Assert.Equal("pid_ns_ctl_handler", o.Function);
        Assert.Equal(0xa2, o.Offset); // the return address of its call into ns_capable
        Assert.True(o.Inferred);
        Assert.Equal("medium", o.Confidence);
        Assert.Equal(["pid_ns_ctl_handler", "proc_sys_call_handler", "vfs_write", "ksys_write", "__x64_sys_write"], o.Chain);
        Assert.Equal([false, false, true, true, true], o.ChainWatched);
        Assert.Equal(["cap_capable (-EPERM)", "security_capable (-EPERM)", "ns_capable (returns bool)"], o.Inner);
        Assert.Contains(o.ErrnoChanges, c => c.Contains("ns_capable, which returns bool") && c.Contains("pid_ns_ctl_handler (not watched) made -EPERM anew"));
        Assert.StartsWith("proc_sys_call_handler+0x1bf", o.Stack[0]);
        // Both can carry an errno and are not watched yet: watching them confirms the next occurrence.
        Assert.Equal(new HashSet<string> { "pid_ns_ctl_handler", "proc_sys_call_handler" }, resolver.Unwatched);
    }

    [Fact]
    public void OnceTheHandlerIsWatchedTheOriginIsConfirmed()
    {
        string[] watched = [.. Watched, "pid_ns_ctl_handler", "proc_sys_call_handler"];
        var resolver = new OriginResolver(Syms, watched, "test", returnKinds: new Kinds());
        var o = resolver.Resolve(KretprobeEvent(
            Rec(5, 0xef80, FromPidNs[1..]),
            Rec(6, 0xefc0, FromPidNs[2..])))!;
        Assert.Equal("pid_ns_ctl_handler", o.Function);
        Assert.False(o.Inferred);
        Assert.Equal(0xa2, o.Offset);
        Assert.Equal("high", o.Confidence);
        Assert.Equal(["pid_ns_ctl_handler", "proc_sys_call_handler", "vfs_write", "ksys_write", "__x64_sys_write"], o.Chain);
        Assert.All(o.ChainWatched, Assert.True);
        Assert.Empty(resolver.Unwatched);
    }

    [Fact]
    public void WithoutReturnTypesTheInnermostWatchedFunctionStaysTheOrigin()
    {
        var o = new OriginResolver(Syms, Watched, "test").Resolve(KretprobeEvent())!;
        Assert.Equal("cap_capable", o.Function);
        Assert.Equal(["cap_capable", "security_capable", "ns_capable", "pid_ns_ctl_handler", "proc_sys_call_handler", "vfs_write", "ksys_write", "__x64_sys_write"], o.Chain);
    }

    [Fact]
    public void FexitTrampolineFramesAndEntryFramesAreNotFunctionsOfTheChain()
    {
        // Debian 6.1, fexit: every watched function on the stack shows at its call site and again at its
        // entry (+0x5) above its trampoline's frame.
        var ev = new SyscallEvent
        {
            Ret = -1, KernelRet = -1,
            OriginRecords =
            [
                new(0xa000, false, -1, 0xef00, [0xb127, 0xc087, 0xa005, 0x9040, 0xd054, 0x9005, 0x802b, 0x70a8, 0x61bd, 0x5235, 0xe054, 0x5005, 0x406b, 0xf04c, 0x4005, 0x3005]),
                new(0x9000, false, -1, 0xef28, [0xb127, 0xd087, 0x9005, 0x802b, 0x70a8, 0x61bd, 0x5235, 0xe054, 0x5005, 0x406b, 0xf04c, 0x4005, 0xf03c, 0x3005, 0x205d, 0x106e]),
                new(0x5000, false, -1, 0xf098, [0xb127, 0xe087, 0x5005, 0x406b, 0xf04c, 0x4005, 0xf03c, 0x3005, 0x205d, 0x106e]),
            ],
        };
        var o = new OriginResolver(Syms, Watched, "fexit", returnKinds: new Kinds()).Resolve(ev)!;
        Assert.Equal("pid_ns_ctl_handler", o.Function);
        Assert.Equal(0xa8, o.Offset);
        Assert.Equal(["pid_ns_ctl_handler", "proc_sys_call_handler", "vfs_write"], o.Chain);
        // __x64_sys_write jumps to ksys_write: it shows only at its entry, above its trampoline.
        Assert.Equal(["proc_sys_call_handler+0x1bd", "vfs_write+0x235", "ksys_write+0x6b", "do_syscall_64+0x5d", "entry_SYSCALL_64_after_hwframe+0x6e"], o.Stack);
    }

    [Fact]
    public void TrampolinesOfFunctionsWatchedLaterHaveNoNameButTheirEntryFramesStillGo()
    {
        // Debian 6.1, pid_ns_ctl_handler and proc_sys_call_handler attached after kallsyms was read.
        var rec = new OriginRecord(0x7000, false, -1, 0xef80, [0xb426, 0x10, 0x7005, 0x61bd, 0x20, 0x6005, 0x5235, 0xe054, 0x5005]);
        var callers = StackChain.Callers(rec, "pid_ns_ctl_handler", Syms);
        Assert.Equal(["proc_sys_call_handler", "vfs_write"], callers.Select(f => f.Name));
    }
}
