using Whyfail.Analysis.Origin.Kernel;
using Xunit;
using Xunit.Abstractions;

namespace Whyfail.Tests.Origin;

/// <summary>
/// The call graph of a real kernel. Needs /proc/kcore, available_filter_functions and BTF: the lab kernels
/// (tests/vm/run, which sets WHYFAIL_LAB=1) have them; elsewhere these tests are skipped, with the reason
/// in the test report (<see cref="CallGraphFactAttribute"/>); in the lab a missing graph fails them.
/// </summary>
[Trait("kernel", "lab")]
public sealed class CallGraphLabTests(ITestOutputHelper output)
{
    internal static readonly Lazy<(CallGraph? Graph, string? Why)> Shared = new(() =>
    {
        try
        {
            return (CallGraph.ForRunningKernel(), null);
        }
        catch (KernelAnalysisException e)
        {
            return (null, e.Message);
        }
    });

    private static CallGraph Graph()
    {
        var (graph, why) = Shared.Value;
        return graph ?? throw new Xunit.Sdk.XunitException($"this kernel should allow the call graph: {why}");
    }

    private IReadOnlyList<string> Functions(CallGraph graph, string syscall)
    {
        var result = graph.Explore(syscall, new CallGraphOptions());
        output.WriteLine($"{syscall}: {result.Functions.Count} functions (reached {result.Reached}, scanned {result.Scanned}) " +
                         $"in {result.Elapsed.TotalMilliseconds:F0} ms from {graph.TextSource}");
        output.WriteLine(string.Join(" ", result.Functions.Select(f => $"{f.Depth}:{f.Name}")));
        Assert.InRange(result.Functions.Count, 10, new CallGraphOptions().MaxFunctions);
        Assert.Equal(0, result.Unreadable);
        Assert.Equal(result.Functions.Select(f => f.Depth).Order(), result.Functions.Select(f => f.Depth));
        return result.Names;
    }

    [CallGraphFact]
    public void Openat_ReachesThePathWalk()
    {
        var graph = Graph();
        var names = Functions(graph, "openat");
        foreach (var f in new[] { "__x64_sys_openat", "do_sys_openat2", "do_filp_open", "path_openat", "may_open" })
            Assert.Contains(f, names);
        Assert.True(names.Contains("link_path_walk") || names.Contains("walk_component"), "link_path_walk or walk_component");
        Assert.Contains(names, n => n.StartsWith("security_", StringComparison.Ordinal));
        foreach (var f in new[] { "kfree", "_raw_spin_lock", "__fentry__", "capable" })
            Assert.DoesNotContain(f, names);
    }

    [CallGraphFact]
    public void Write_ReachesVfsWrite()
    {
        var graph = Graph();
        var names = Functions(graph, "write");
        Assert.Contains("vfs_write", names);
        Assert.Contains("rw_verify_area", names);
    }

    [CallGraphFact]
    public void PerfEventOpen_ReachesPerfCopyAttr()
    {
        var graph = Graph();
        var names = Functions(graph, "perf_event_open");
        Assert.Contains("perf_copy_attr", names);
        Assert.Contains("security_capable", names);
    }

    [CallGraphFact]
    public void IoUringSetup_HasAGraph()
    {
        var graph = Graph();
        Assert.Contains("__x64_sys_io_uring_setup", Functions(graph, "io_uring_setup"));
    }

    [CallGraphFact]
    public void KcoreText_MatchesTheLiveKernel()
    {
        Graph();
        var k = Kallsyms.Load();
        using var kcore = KernelText.FromKcore();
        Assert.True(k.TryGetSymbol("do_sys_openat2", out var f));
        var code = kcore.Read(f.Address, (int)f.Size);
        var sites = CallSiteScanner.Scan(code, code.Length, f.Address);
        Assert.Contains(sites, s => k.TryFindStart(s.Target, out var t) && t.Name == "do_filp_open");
    }

    [CallGraphFact]
    public void ModuleBtf_ReadsAsSplitBtf()
    {
        Graph();
        var module = Directory.GetFiles("/sys/kernel/btf").FirstOrDefault(p => Path.GetFileName(p) != "vmlinux");
        // The lab kernels load their 9p and virtio modules, each with BTF (Debian: CONFIG_DEBUG_INFO_BTF_MODULES).
        Assert.True(module != null, "no module BTF in /sys/kernel/btf: this kernel has loaded no module with BTF");
        var vmlinux = BtfTypeTable.Load(BtfReturnTypes.DefaultPath);
        var split = BtfTypeTable.Load(module, vmlinux);
        output.WriteLine($"{module}: {split.TypeCount - vmlinux.TypeCount} types, {split.FunctionCount - vmlinux.FunctionCount} functions");
        Assert.True(split.TypeCount > vmlinux.TypeCount);
        var own = split.FunctionNames.Skip(vmlinux.FunctionNames.Count()).FirstOrDefault();
        if (own != null)
        {
            var btf = new BtfReturnTypes(split);
            Assert.NotEqual(BtfReturnKind.Unknown, btf.Lookup(own)[0].ReturnKind);
        }
    }
}

/// <summary>
/// A fact about the running kernel's call graph: skipped (visibly, with the reason) on a kernel that does not
/// allow it, such as the locked-down host; never skipped in the lab (WHYFAIL_LAB=1), where it must work.
/// </summary>
public sealed class CallGraphFactAttribute : FactAttribute
{
    public CallGraphFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("WHYFAIL_LAB") == "1") return;
        var why = CallGraphLabTests.Shared.Value.Why;
        if (why != null) Skip = $"this kernel does not allow the call graph ({why}); the lab kernels do (tests/vm/run-tests)";
    }
}
