using Whyfail.Analysis.Origin.Resolve;
using Whyfail.Events;
using Xunit;

namespace Whyfail.Tests.Origin;

/// <summary>
/// The machine code of the functions the stack shows between watched ones decides an origin the stack leaves open.
/// The records are the ones the 6.12 lab recorded for the corpus cases setns_not_a_namespace and setpriority_lower_nice
/// (bench/origins), where whyfail had named the wrapper and the bool-returning check.
/// </summary>
public class OriginMachineCodeTests
{
    private const long EACCES = -13, EINVAL = -22, EBADF = -9, EPERM = -1;

    private static readonly TableSymbols Syms = new(new()
    {
        [0x1000] = "entry_SYSCALL_64_after_hwframe", [0x2000] = "do_syscall_64", [0x3000] = "__x64_sys_setns",
        [0x4000] = "__do_sys_setns", [0x5000] = "pidfd_pid",
        [0x6000] = "__x64_sys_setpriority", [0x7000] = "__do_sys_setpriority", [0x8000] = "set_one_prio",
        [0x9000] = "can_nice", [0xa000] = "capable", [0xb000] = "security_capable", [0xc000] = "cap_capable",
    });

    private sealed class Kinds : IReturnKinds
    {
        public bool CannotCarryErrno(string f) => f == "capable";
        public bool CanCarryErrno(string f) => f != "capable";
        public string? ReturnType(string f) => f == "capable" ? "bool" : "int";
    }

    private sealed class Facts(Dictionary<string, CalleeFacts> table) : ICalleeFacts
    {
        public CalleeFacts? Of(string function, int errno) => table.GetValueOrDefault(function);
    }

    private static OriginRecord Rec(int index, long ret, ulong sp, params ulong[] stack) => new((ulong)index, true, ret, sp, stack);

    // __x64_sys_setns jumps into __do_sys_setns (no frame of its own), which cannot be watched; pidfd_pid's -EBADF
    // on a file that is not a pidfd becomes -EINVAL there.
    private static readonly string[] SetnsWatched = ["__x64_sys_setns", "pidfd_pid"];
    private static SyscallEvent Setns() => new()
    {
        Syscall = "setns", Ret = EINVAL, KernelRet = EINVAL,
        OriginRecords = [Rec(1, EBADF, 0xe000, 0x41de, 0x2087, 0x1076), Rec(0, EINVAL, 0xf000, 0x2087, 0x1076)],
    };

    [Fact]
    public void AWrapperWithoutTheErrnoPointsAtTheUnwatchedFunctionBelowItThatMakesIt()
    {
        var facts = new Facts(new()
        {
            ["__x64_sys_setns"] = new(["__do_sys_setns"], 0, false),
            ["__do_sys_setns"] = new(["pidfd_pid", "proc_ns_file"], 0, true),
        });
        var o = new OriginResolver(Syms, SetnsWatched, "test", returnKinds: new Kinds(), callees: facts).Resolve(Setns())!;
        Assert.Equal("__do_sys_setns", o.Function);
        Assert.True(o.Inferred);
        Assert.Equal("medium", o.Confidence); // not watched: inferred, never high
        Assert.Equal("kernel_stack", o.FoundBy);
        Assert.Equal(["__do_sys_setns", "__x64_sys_setns"], o.Chain);
    }

    [Fact]
    public void WithoutTheErrnoInTheFunctionBelowTheWatchedWrapperStaysTheOrigin()
    {
        var facts = new Facts(new()
        {
            ["__x64_sys_setns"] = new(["__do_sys_setns"], 0, false),
            ["__do_sys_setns"] = new(["pidfd_pid"], 0, false),
        });
        var o = new OriginResolver(Syms, SetnsWatched, "test", returnKinds: new Kinds(), callees: facts).Resolve(Setns())!;
        Assert.Equal("__x64_sys_setns", o.Function);
        Assert.True(o.Deeper);
        Assert.Equal("medium", o.Confidence);

        // A wrapper that also calls another unwatched function that could have returned it: no guess.
        facts = new Facts(new()
        {
            ["__x64_sys_setns"] = new(["__do_sys_setns", "other_unwatched"], 0, false),
            ["__do_sys_setns"] = new(["pidfd_pid"], 0, true),
        });
        o = new OriginResolver(Syms, SetnsWatched, "test", returnKinds: new Kinds(), callees: facts).Resolve(Setns())!;
        Assert.Equal("__x64_sys_setns", o.Function);
    }

    // set_one_prio (watched) calls can_nice (int, not watched) → capable (bool) → security_capable → cap_capable (-EPERM).
    private static readonly string[] PrioWatched = ["__x64_sys_setpriority", "set_one_prio", "security_capable", "cap_capable"];
    private static SyscallEvent Setpriority() => new()
    {
        Syscall = "setpriority", Ret = EACCES, KernelRet = EACCES,
        OriginRecords =
        [
            Rec(3, EPERM, 0xd000, 0xb165, 0xa02e, 0x903a, 0x8098, 0x7093, 0x2087, 0x1076),
            Rec(2, EPERM, 0xd100, 0xa02e, 0x903a, 0x8098, 0x7093, 0x2087, 0x1076),
            Rec(1, EACCES, 0xe000, 0x7093, 0x2087, 0x1076),
            Rec(0, EACCES, 0xf000, 0x2087, 0x1076),
        ],
    };

    [Fact]
    public void AnUnwatchedCheckAboveABoolBarrierWithoutTheErrnoIsPassedOver()
    {
        var facts = new Facts(new()
        {
            ["can_nice"] = new(["capable"], 0, false),
            ["set_one_prio"] = new(["can_nice", "security_task_setnice"], 0, true),
        });
        var o = new OriginResolver(Syms, PrioWatched, "test", returnKinds: new Kinds(), callees: facts).Resolve(Setpriority())!;
        Assert.Equal("set_one_prio", o.Function);
        Assert.False(o.Inferred);
        Assert.Equal("return_values", o.FoundBy);
        Assert.Contains(o.ErrnoChanges, c => c.Contains("capable, which returns bool: set_one_prio made -EACCES anew"));
    }

    [Fact]
    public void AnUnwatchedCheckThatMakesTheErrnoOrCallsThroughAPointerStaysTheOrigin()
    {
        foreach (var canNice in new CalleeFacts[] { new(["capable"], 0, true), new(["capable"], 1, false), new(["capable", "unknown_helper"], 0, false) })
        {
            var facts = new Facts(new() { ["can_nice"] = canNice, ["set_one_prio"] = new(["can_nice"], 0, true) });
            var o = new OriginResolver(Syms, PrioWatched, "test", returnKinds: new Kinds(), callees: facts).Resolve(Setpriority())!;
            Assert.Equal("can_nice", o.Function);
            Assert.Equal("medium", o.Confidence);
        }
        // Unknown machine code (no facts): as before.
        var none = new OriginResolver(Syms, PrioWatched, "test", returnKinds: new Kinds(), callees: new Facts(new())).Resolve(Setpriority())!;
        Assert.Equal("can_nice", none.Function);
    }
}
