using Whyfail.Analysis.Origin.Kernel;
using Whyfail.Analysis.Origin.Resolve;
using Whyfail.Events;
using Xunit;

namespace Whyfail.Tests.Origin;

/// <summary>
/// Honest confidence (issue 18.1): an origin is "high" only when the error demonstrably started there. Records
/// shaped like the lab's (Debian 6.12, kretprobe.multi): dd into a full tmpfs (write ENOSPC, the error born in
/// shmem behind f_op->write_iter, vfs_write the innermost watched function) and inotify_add_watch beyond
/// max_user_watches (ENOSPC, with an unrelated -ESRCH from a permission check on the way).
/// </summary>
public class OriginConfidenceTests
{
    private const long ENOSPC = -28, ESRCH = -3;

    private static readonly TableSymbols Syms = new(new()
    {
        [0x1000] = "entry_SYSCALL_64", [0x2000] = "do_syscall_64", [0x3000] = "__x64_sys_write",
        [0x4000] = "ksys_write", [0x5000] = "vfs_write", [0x6000] = "get_cached_acl", [0x7000] = "shmem_file_write_iter",
        [0x8000] = "rw_verify_area",
    });

    private static readonly string[] Watched = ["__x64_sys_write", "ksys_write", "vfs_write", "get_cached_acl", "rw_verify_area"];

    private sealed class Kinds : IReturnKinds
    {
        public bool CannotCarryErrno(string f) => false;
        public bool CanCarryErrno(string f) => true;
        public string? ReturnType(string f) => "ssize_t";
    }

    /// <summary>Callee facts from a table (what <see cref="KernelCallees"/> reads from the kernel's text).</summary>
    private sealed class Facts(Dictionary<string, CalleeFacts> table) : ICalleeFacts
    {
        public CalleeFacts? Of(string function, int errno) => table.GetValueOrDefault(function);
    }

    private static OriginRecord Rec(int index, long ret, ulong sp, params ulong[] stack) => new((ulong)index, true, ret, sp, stack);

    // vfs_write ← ksys_write ← __x64_sys_write, each returning -ENOSPC.
    private static SyscallEvent Write(params OriginRecord[] inner) => new()
    {
        Ret = ENOSPC, KernelRet = ENOSPC,
        OriginRecords =
        [
            .. inner,
            Rec(2, ENOSPC, 0xf000, 0x40a0, 0x3010, 0x2087, 0x1076),
            Rec(1, ENOSPC, 0xf080, 0x3010, 0x2087, 0x1076),
            Rec(0, ENOSPC, 0xf0c0, 0x2087, 0x1076),
        ],
    };

    [Fact]
    public void AnOriginThatMadeIndirectCallsNobodyWatchedMayBeDeeperAndIsNeverHigh()
    {
        var facts = new Facts(new() { ["vfs_write"] = new(["rw_verify_area", "fsnotify_modify_hook"], 2, false) });
        var resolver = new OriginResolver(Syms, Watched, "test", returnKinds: new Kinds(), callees: facts);
        var o = resolver.Resolve(Write())!;
        Assert.Equal("vfs_write", o.Function);
        Assert.True(o.Deeper);
        Assert.Equal("medium", o.Confidence);
        Assert.Equal("return_values", o.FoundBy);
        Assert.Contains("2 indirect calls", o.DeeperWhy);
        Assert.Contains("fsnotify_modify_hook", o.DeeperWhy);
        Assert.DoesNotContain("rw_verify_area", o.DeeperWhy); // watched: it did not return the error
        // Its unwatched direct callee is proposed for watching (zoom-in); indirect ones cannot be named.
        Assert.Equal(new HashSet<string> { "fsnotify_modify_hook" }, resolver.DeeperCallees);
    }

    [Fact]
    public void AnOriginHoldingTheErrnoItselfOrCallingOnlyWatchedFunctionsIsHigh()
    {
        var makes = new Facts(new() { ["vfs_write"] = new(["fsnotify_modify_hook"], 0, true) });
        var o = new OriginResolver(Syms, Watched, "test", returnKinds: new Kinds(), callees: makes).Resolve(Write())!;
        Assert.False(o.Deeper);
        Assert.Null(o.DeeperWhy);
        Assert.Equal("high", o.Confidence);

        // Making the errno itself does not rule out an indirect callee's (6.12 lab: vfs_write makes -EINVAL, and so does
        // eventfd_write behind f_op->write; "high" was wrong there).
        var makesAndCallsThrough = new Facts(new() { ["vfs_write"] = new(["fsnotify_modify_hook"], 2, true) });
        o = new OriginResolver(Syms, Watched, "test", returnKinds: new Kinds(), callees: makesAndCallsThrough).Resolve(Write())!;
        Assert.True(o.Deeper);
        Assert.Equal("medium", o.Confidence);
        Assert.Equal("vfs_write makes -ENOSPC itself but also 2 indirect calls (function pointers), which may have returned it", o.DeeperWhy);

        var allWatched = new Facts(new() { ["vfs_write"] = new(["rw_verify_area"], 0, false) });
        o = new OriginResolver(Syms, Watched, "test", returnKinds: new Kinds(), callees: allWatched).Resolve(Write())!;
        Assert.False(o.Deeper);
        Assert.Equal("high", o.Confidence);
    }

    [Fact]
    public void OnceTheCalleeIsWatchedTheOriginFoundThereWasFoundByZoomingIn()
    {
        var facts = new Facts(new() { ["vfs_write"] = new(["shmem_file_write_iter"], 0, false), ["shmem_file_write_iter"] = new([], 0, true) });
        var watched = new List<string>(Watched);
        var resolver = new OriginResolver(Syms, watched, "test", returnKinds: new Kinds(), callees: facts);
        Assert.True(resolver.Resolve(Write())!.Deeper);
        Assert.Contains("shmem_file_write_iter", resolver.DeeperCallees);
        watched.Add("shmem_file_write_iter"); // what OriginGrowth does with the proposal
        var o = resolver.Resolve(Write(Rec(5, ENOSPC, 0xef00, 0x50c0, 0x40a0, 0x3010, 0x2087, 0x1076)))!;
        Assert.Equal("shmem_file_write_iter", o.Function);
        Assert.Equal(["shmem_file_write_iter", "vfs_write", "ksys_write", "__x64_sys_write"], o.Chain);
        Assert.False(o.Deeper);
        Assert.Equal("high", o.Confidence);
        Assert.Equal("zoom", o.FoundBy);
    }

    [Fact]
    public void TheIndirectCallsOfAnUncertainOriginAreFollowedIntoTheFailuresFileSystem()
    {
        // vfs_write makes 2 indirect calls; the write's descriptor (argument 0) is on tmpfs: its targets are shmem_'s.
        var facts = new Facts(new() { ["vfs_write"] = new([], 2, false), ["shmem_inode_acct_blocks"] = new([], 0, true) });
        var watched = new List<string>(Watched);
        var resolver = new OriginResolver(Syms, watched, "test", returnKinds: new Kinds(), callees: facts);
        var tmpfs = new ContextFile(3, 0, ContextFileFlags.Open, 0x81a4, 1, 0x17, 40, 7, 0, "tmpfs", ["fill"]);
        SyscallEvent Failure(params OriginRecord[] inner)
        {
            var ev = Write(inner);
            return new SyscallEvent { Syscall = "write", Ret = ev.Ret, KernelRet = ev.KernelRet, OriginRecords = ev.OriginRecords, Context = new FailureContext { Files = [tmpfs] } };
        }
        Assert.True(resolver.Resolve(Failure())!.Deeper);
        Assert.True(resolver.IndirectCalls.TryDequeue(out var call));
        Assert.Equal(("vfs_write", "write"), (call.Origin, call.Syscall));
        Assert.Equal(["shmem_", "tmpfs_"], call.Prefixes);
        Assert.False(resolver.IndirectCalls.TryDequeue(out _));
        resolver.Resolve(Failure());
        Assert.False(resolver.IndirectCalls.TryDequeue(out _)); // asked once per origin and file system
        // What OriginGrowth does: the BTF targets and what they call are watched and reported back.
        resolver.Proposed(["shmem_write_begin", "shmem_inode_acct_blocks"], "btf_targets");
        watched.AddRange(["shmem_write_begin", "shmem_inode_acct_blocks"]);
        var o = resolver.Resolve(Failure(Rec(6, ENOSPC, 0xee00, 0x70c0, 0x50c0, 0x40a0, 0x3010, 0x2087, 0x1076)))!;
        Assert.Equal("shmem_inode_acct_blocks", o.Function);
        Assert.Equal("zoom", o.FoundBy);
        Assert.Equal("btf_targets", o.ZoomedBy);
        Assert.Equal("high", o.Confidence);
    }

    [Fact]
    public void AnUnrelatedErrorInsideTheCallIsNotAnOrigin()
    {
        // inotify_add_watch failed with -ENOSPC; the only watched function that failed was a permission check's
        // ACL lookup returning -ESRCH (handled). Nothing watched returned -ENOSPC: no origin, not a guess.
        var ev = new SyscallEvent { Ret = ENOSPC, KernelRet = ENOSPC, OriginRecords = [Rec(3, ESRCH, 0xef00, 0x50c0, 0x2087, 0x1076)] };
        Assert.Null(new OriginResolver(Syms, Watched, "test", returnKinds: new Kinds()).Resolve(ev));
    }

    [Fact]
    public void AnUnrelatedErrorAfterTheRootDoesNotTakeItsPlace()
    {
        // The entry is not watched; vfs_write returned -ENOSPC, then a later, unrelated call returned -ESRCH.
        var ev = new SyscallEvent
        {
            Ret = ENOSPC, KernelRet = ENOSPC,
            OriginRecords = [Rec(2, ENOSPC, 0xf000, 0x40a0, 0x3010, 0x2087, 0x1076), Rec(3, ESRCH, 0xf000, 0x40b0, 0x3010, 0x2087, 0x1076)],
        };
        var o = new OriginResolver(Syms, Watched, "test", returnKinds: new Kinds()).Resolve(ev)!;
        Assert.Equal("vfs_write", o.Function);
        Assert.Equal("medium", o.Confidence); // something failed after it: it may have been a handled sibling
    }

    [Fact]
    public void AFunctionTailCalledByTheChainIsItsInnerLink()
    {
        // Debian 6.12, io_uring_setup(0, p): __x64_sys_io_uring_setup jumps into io_uring_setup, which holds
        // "if (!entries) return -EINVAL;" (io_uring_create inlined). Both returns share one frame and its callers.
        var syms = new TableSymbols(new() { [0x1000] = "entry_SYSCALL_64", [0x2000] = "do_syscall_64", [0x3000] = "__x64_sys_io_uring_setup", [0x4000] = "io_uring_setup" });
        var ev = new SyscallEvent
        {
            Ret = -22, KernelRet = -22,
            OriginRecords = [Rec(1, -22, 0xff80, 0x2087, 0x1076), Rec(0, -22, 0xff80, 0x2087, 0x1076)],
        };
        var facts = new Facts(new() { ["io_uring_setup"] = new([], 0, true), ["__x64_sys_io_uring_setup"] = new(["io_uring_setup"], 0, false) });
        var o = new OriginResolver(syms, ["__x64_sys_io_uring_setup", "io_uring_setup"], "test", returnKinds: new Kinds(), callees: facts).Resolve(ev)!;
        Assert.Equal("io_uring_setup", o.Function);
        Assert.Equal(["io_uring_setup", "__x64_sys_io_uring_setup"], o.Chain);
        Assert.Equal("high", o.Confidence);
    }

    [Fact]
    public void KernelCalleesReadsDirectAndIndirectCallsAndTheErrnoFromMachineCode()
    {
        var k = new FakeKernel()
            .Symbol("_text", 0x000, 'T')
            .Symbol("origin_fn", 0x100)
            .Symbol("origin_fn.cold", 0x200)
            .Symbol("callee_a", 0x300)
            .Symbol("callee_b", 0x400)
            .Symbol("__x86_indirect_thunk_rax", 0x500, 'T')
            .Symbol("maker", 0x600)
            .Symbol("_etext", 0x700, 'T');
        k.Code("origin_fn").Endbr64().Call("callee_a").CallRax().Call("__x86_indirect_thunk_rax").Jne("origin_fn.cold").JmpRax();
        k.Code("origin_fn.cold").Call("callee_b").Ud2();
        k.Code("callee_a").Ret();
        k.Code("callee_b").Ret();
        k.Code("__x86_indirect_thunk_rax").Ret();
        k.Code("maker").MovEax(-28).Ret();
        using var callees = new KernelCallees(k.Kallsyms(), k.Text);
        var f = callees.Of("origin_fn", 28)!;
        Assert.Equal(["callee_a", "callee_b"], f.Direct);
        Assert.Equal(3, f.Indirect); // CALL rax, the retpoline thunk, JMP rax
        Assert.False(f.MakesErrno);
        Assert.True(callees.Of("maker", 28)!.MakesErrno);
        Assert.False(callees.Of("maker", 22)!.MakesErrno);
        Assert.Null(callees.Of("no_such_function", 28));
    }
}
