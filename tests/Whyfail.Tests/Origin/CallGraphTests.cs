using Whyfail.Analysis.Origin.Kernel;
using Xunit;

namespace Whyfail.Tests.Origin;

public class CallGraphTests
{
    /// <summary>
    /// __x64_sys_demo → do_demo (→ static call, cold part, padding thunk, security hook...) and a tail call;
    /// infrastructure (kfree, thunks, __fentry__) to be skipped.
    /// </summary>
    private static FakeKernel Demo()
    {
        var k = new FakeKernel()
            .Symbol("_text", 0x000, 'T')
            .Symbol("__pfx___x64_sys_demo", 0x010)
            .Symbol("__x64_sys_demo", 0x020, 'T')
            .Symbol("__pfx_do_demo", 0x100)
            .Symbol("do_demo", 0x110)
            .Symbol("helper_void", 0x200)
            .Symbol("deep1", 0x300)
            .Symbol("deep2", 0x400)
            .Symbol("deep3", 0x500)
            .Symbol("__SCT__demo_hook", 0x600, 'T')
            .Symbol("__SCT__unset_hook", 0x608, 'T')
            .Symbol("hook_impl", 0x700)
            .Symbol("do_demo.cold", 0x800)
            .Symbol("cold_callee", 0x900)
            .Symbol("tail_target", 0xa00)
            .Symbol("kfree", 0xb00, 'T')
            .Symbol("never_reached", 0xc00)
            .Symbol("__pfx_padded_target", 0xd00)
            .Symbol("padded_target", 0xd10)
            .Symbol("__x86_indirect_thunk_rax", 0xe00, 'T')
            .Symbol("__fentry__", 0xe40, 'T')
            .Symbol("security_demo", 0xf00, 'T')
            .Symbol("apparmor_demo", 0x1000)
            .Symbol("aa_inner", 0x1100)
            .Symbol("cap_capable", 0x1200, 'T')
            .Symbol("untraceable_fn", 0x1300)
            .Symbol("below_untraceable", 0x1400)
            .Symbol("_etext", 0x1500, 'T');

        k.Code("__x64_sys_demo").Endbr64().Nop5().Call("do_demo").Call("kfree").Call("__x86_indirect_thunk_rax")
            .CallRax().Call("__fentry__").Jmp("tail_target");
        k.Code("do_demo").Endbr64().Call("__SCT__demo_hook").Call("__SCT__unset_hook").Call("helper_void")
            .Jne("do_demo.cold", 1)
            .Call("padded_target", -11)          // call-depth tracking: into the padding before the function
            .Call("security_demo").Call("untraceable_fn")
            .Call("tail_target", 4)              // into the middle of a function: not a call
            .JmpShortBack(40)                    // a loop inside the function
            .Ret();
        k.Code("helper_void").Call("deep1").Ret();
        k.Code("deep1").Call("deep2").Ret();
        k.Code("deep2").Call("deep3").Ret();
        k.Code("deep3").Ret();
        k.Code("__SCT__demo_hook").Jmp("hook_impl");
        k.Code("__SCT__unset_hook").Ret();
        k.Code("hook_impl").Ret();
        k.Code("do_demo.cold").Nop().Call("cold_callee").Ud2();
        k.Code("cold_callee").Ret();
        k.Code("tail_target").Ret();
        k.Code("kfree").Call("never_reached").Ret();
        k.Code("never_reached").Ret();
        k.Code("padded_target").Ret();
        k.Code("__x86_indirect_thunk_rax").JmpRax();
        k.Code("__fentry__").Ret();
        k.Code("security_demo").Ret();
        k.Code("apparmor_demo").Call("aa_inner").Ret();
        k.Code("aa_inner").Ret();
        k.Code("cap_capable").Ret();
        k.Code("untraceable_fn").Call("below_untraceable").Ret();
        k.Code("below_untraceable").Ret();
        return k;
    }

    private static BtfReturnTypes DemoBtf()
    {
        var b = new BtfBuilder();
        int intT = b.Int("int", 4, BtfBuilder.Signed);
        int longT = b.Int("long int", 8, BtfBuilder.Signed);
        int boolT = b.Int("_Bool", 1, BtfBuilder.Bool);
        int retInt = b.FuncProto(intT), retLong = b.FuncProto(longT), retVoid = b.FuncProto(0), retBool = b.FuncProto(boolT);
        b.Func("__x64_sys_demo", retLong);
        foreach (var n in new[] { "do_demo", "deep1", "deep3", "hook_impl", "cold_callee", "tail_target", "padded_target",
                     "security_demo", "apparmor_demo", "aa_inner", "cap_capable", "untraceable_fn", "below_untraceable", "never_reached" })
            b.Func(n, retInt);
        b.Func("helper_void", retVoid);
        b.Func("kfree", retVoid);
        b.Func("deep2", retBool);
        return BtfReturnTypes.Parse(b.Build());
    }

    private static TraceableFunctions DemoTraceable(FakeKernel k) =>
        new(k.Kallsyms().Symbols.Select(s => s.Name).Where(n => n is not ("untraceable_fn" or "never_reached")));

    private static CallGraph DemoGraph(FakeKernel? k = null)
    {
        k ??= Demo();
        return new CallGraph(k.Kallsyms(), k.Text(), DemoTraceable(k), DemoBtf(), new IndirectCallFamilies(["capability", "apparmor"]));
    }

    [Fact]
    public void FollowsDirectCalls_BreadthFirst_AndKeepsErrnoCapableTraceableFunctions()
    {
        var result = DemoGraph().Explore("demo", new CallGraphOptions());
        Assert.Equal(new[] { "__x64_sys_demo" }, result.EntrySymbols);
        Assert.Equal(new[]
        {
            "__x64_sys_demo",
            "cap_capable", "do_demo", "tail_target",
            "hook_impl", "cold_callee", "padded_target", "security_demo",
            "deep1", "apparmor_demo", "below_untraceable",
            "aa_inner",
            "deep3",
        }, result.Names);
        Assert.Equal(new[] { 0, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 4, 5 }, result.Functions.Select(f => f.Depth));
        Assert.False(result.Truncated);
        Assert.Equal(0, result.Unreadable);

        var byName = result.Functions.ToDictionary(f => f.Name);
        Assert.Equal(CallGraphEdge.Entry, byName["__x64_sys_demo"].Via);
        Assert.Equal(CallGraphEdge.Family, byName["cap_capable"].Via);
        Assert.Equal(CallGraphEdge.TailCall, byName["tail_target"].Via);
        Assert.Equal(CallGraphEdge.Call, byName["hook_impl"].Via);      // through the static-call trampoline
        Assert.Equal("do_demo", byName["hook_impl"].Caller);
        Assert.Equal("do_demo", byName["cold_callee"].Caller);           // the cold part belongs to do_demo
        Assert.Equal(CallGraphEdge.Family, byName["apparmor_demo"].Via);
        Assert.Equal("security_demo", byName["apparmor_demo"].Caller);
        Assert.Equal("untraceable_fn", byName["below_untraceable"].Caller);
        Assert.All(result.Functions, f => Assert.False(f.SharedName));
        Assert.Equal(FakeKernel.Base + 0xd10, byName["padded_target"].Address);
    }

    [Fact]
    public void SkipsInfrastructureThunksAndWhatTheFiltersReject()
    {
        var names = DemoGraph().FunctionsFor("demo", new CallGraphOptions());
        foreach (var skipped in new[] { "kfree", "never_reached", "__x86_indirect_thunk_rax", "__fentry__", "__SCT__demo_hook",
                     "__SCT__unset_hook", "do_demo.cold", "__pfx_padded_target", "helper_void", "deep2", "untraceable_fn" })
            Assert.DoesNotContain(skipped, names);
    }

    [Fact]
    public void MaxDepth_StopsTheWalk()
    {
        var names = DemoGraph().FunctionsFor("demo", new CallGraphOptions { MaxDepth = 2 });
        Assert.Equal(new[] { "__x64_sys_demo", "cap_capable", "do_demo", "tail_target", "hook_impl", "cold_callee", "padded_target", "security_demo" }, names);
        Assert.Equal(new[] { "__x64_sys_demo" }, DemoGraph().FunctionsFor("demo", new CallGraphOptions { MaxDepth = 0 }));
    }

    [Fact]
    public void MaxFunctions_KeepsTheShallowest()
    {
        var result = DemoGraph().Explore("demo", new CallGraphOptions { MaxFunctions = 3 });
        Assert.Equal(new[] { "__x64_sys_demo", "cap_capable", "do_demo" }, result.Names);
        Assert.True(result.Truncated);
    }

    [Fact]
    public void Options_TurnOffTailCallsFamiliesAndFilters()
    {
        var g = DemoGraph();
        var noTail = g.FunctionsFor("demo", new CallGraphOptions { FollowTailCalls = false });
        Assert.DoesNotContain("tail_target", noTail);
        Assert.Contains("cold_callee", noTail);                     // cold parts are not tail calls

        var noFamilies = g.FunctionsFor("demo", new CallGraphOptions { AddIndirectFamilies = false });
        Assert.DoesNotContain("cap_capable", noFamilies);
        Assert.DoesNotContain("apparmor_demo", noFamilies);
        Assert.DoesNotContain("aa_inner", noFamilies);

        var unfiltered = g.FunctionsFor("demo", new CallGraphOptions { RequireTraceable = false, RequireErrnoReturn = false });
        Assert.Contains("helper_void", unfiltered);
        Assert.Contains("untraceable_fn", unfiltered);
        Assert.Contains("deep2", unfiltered);
        Assert.DoesNotContain("never_reached", unfiltered);           // only kfree calls it, and kfree is denied
        Assert.DoesNotContain("kfree", unfiltered);

        var denied = g.FunctionsFor("demo", new CallGraphOptions { ExtraDeny = ["helper_*", "security_demo"] });
        Assert.DoesNotContain("deep1", denied);
        Assert.DoesNotContain("deep3", denied);
        Assert.DoesNotContain("apparmor_demo", denied);
        Assert.Contains("hook_impl", denied);
    }

    [Fact]
    public void FiltersNeedTheirSources()
    {
        var k = Demo();
        var g = new CallGraph(k.Kallsyms(), k.Text(), traceable: null, btf: null);
        Assert.Throws<KernelAnalysisException>(() => g.FunctionsFor("demo", new CallGraphOptions()));
        var all = g.FunctionsFor("demo", new CallGraphOptions { RequireTraceable = false, RequireErrnoReturn = false });
        Assert.Contains("do_demo", all);
        Assert.DoesNotContain("cap_capable", all);                     // no families given
    }

    [Fact]
    public void UnknownSyscall_IsReported()
    {
        var e = Assert.Throws<MissingEntryException>(() => DemoGraph().FunctionsFor("nosuchcall", new CallGraphOptions()));
        Assert.Contains("no entry symbol for syscall 'nosuchcall'", e.Message);
        Assert.Contains("__x64_sys_nosuchcall", e.Message);
    }

    [Fact]
    public void UnreadableText_IsCountedNotFatal()
    {
        var k = Demo();
        var g = new CallGraph(k.Kallsyms(), new ArrayText(0x1000, new byte[16]), DemoTraceable(k), DemoBtf());
        var result = g.Explore("demo", new CallGraphOptions());
        Assert.Equal(new[] { "__x64_sys_demo" }, result.Names);
        Assert.Equal(1, result.Unreadable);
    }

    [Fact]
    public void Scanner_FindsCallsAndJumpsThatLeaveTheFunction()
    {
        var k = Demo();
        var code = k.Bytes("do_demo", 0xf0);
        var sites = CallSiteScanner.Scan(code, code.Length, k["do_demo"]);
        Assert.Equal(7, sites.Count(s => s.Kind == CallSiteKind.Call));
        var jump = Assert.Single(sites, s => s.Kind == CallSiteKind.Jump);  // the loop stays inside
        Assert.Equal(k["do_demo.cold"] + 1, jump.Target);
        Assert.Contains(sites, s => s.Target == k["padded_target"] - 11);

        Assert.Equal(k["hook_impl"], CallSiteScanner.TrampolineTarget(k.Bytes("__SCT__demo_hook", 8), k["__SCT__demo_hook"]));
        Assert.Null(CallSiteScanner.TrampolineTarget(k.Bytes("__SCT__unset_hook", 8), k["__SCT__unset_hook"]));
    }

    [Fact]
    public void Denylist_MatchesPrefixesAndExactNamesWithSuffixes()
    {
        var d = new CallGraphDenylist(CallGraphDenylist.Default);
        foreach (var n in new[] { "_raw_spin_lock", "kfree", "kmalloc_trace", "__kmalloc_node", "memcpy", "mutex_lock_killable",
                     "__x86_return_thunk", "__x86_indirect_thunk_r11", "__fentry__", "__stack_chk_fail", "rcu_read_unlock_strict",
                     "trace_event_raw_event_sys_enter", "__might_sleep", "dput", "kmem_cache_alloc_noprof", "complete" })
            Assert.True(d.IsDenied(n), n);
        foreach (var n in new[] { "strncpy_from_user", "_copy_from_user", "memdup_user", "security_file_open", "inode_permission",
                     "generic_permission", "capable", "ns_capable", "cap_capable", "lock_rename", "lock_mount", "complete_walk",
                     "do_sys_openat2", "path_openat", "update_atime", "getname_flags.part.0" })
            Assert.False(d.IsDenied(n), n);
    }

    [Fact]
    public void Families_AddCapabilityHelpers_PermissionChecksForPathSyscalls_AndLsmImplementations()
    {
        var f = new IndirectCallFamilies(["lockdown", "capability", "landlock", "apparmor", "bpf", "evm"]);
        Assert.Contains("cap_capable", f.ForEntry("write"));
        Assert.DoesNotContain("inode_permission", f.ForEntry("write"));
        Assert.Contains("inode_permission", f.ForEntry("mkdirat"));
        Assert.DoesNotContain("may_open", f.ForEntry("mkdirat"));
        Assert.Contains("may_open", f.ForEntry("openat"));
        Assert.Equal(new[] { "cap_file_open", "hook_file_open", "apparmor_file_open", "bpf_lsm_file_open" }, f.ForFunction("security_file_open"));
        Assert.Equal(new[] { "lockdown_is_locked_down", "cap_locked_down", "hook_locked_down", "apparmor_locked_down", "bpf_lsm_locked_down" },
            f.ForFunction("security_locked_down"));
        Assert.Empty(f.ForFunction("vfs_open"));
        Assert.True(IndirectCallFamilies.IsFileSyscall("openat"));
        Assert.False(IndirectCallFamilies.IsFileSyscall("perf_event_open"));
    }
}
