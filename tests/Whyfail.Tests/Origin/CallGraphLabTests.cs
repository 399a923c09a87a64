using Whyfail.Analysis.Origin.Kernel;
using Xunit;
using Xunit.Abstractions;

namespace Whyfail.Tests.Origin;

/// <summary>
/// The call graph of a real kernel. Needs /proc/kcore, available_filter_functions and BTF: the lab kernels
/// (tests/vm/run, which sets WHYFAIL_LAB=1) have them; elsewhere these tests return early and say so.
/// </summary>
[Trait("kernel", "lab")]
public sealed class CallGraphLabTests(ITestOutputHelper output)
{
    private static readonly Lazy<(CallGraph? Graph, string? Why)> Shared = new(() =>
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

    private CallGraph? Graph()
    {
        var (graph, why) = Shared.Value;
        if (graph != null) return graph;
        if (Environment.GetEnvironmentVariable("WHYFAIL_LAB") == "1")
            Assert.Fail($"the lab kernel should allow the call graph: {why}");
        output.WriteLine($"not checked outside the lab kernels: {why}");
        return null;
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

    [Fact]
    public void Openat_ReachesThePathWalk()
    {
        var graph = Graph();
        if (graph == null) return;
        var names = Functions(graph, "openat");
        foreach (var f in new[] { "__x64_sys_openat", "do_sys_openat2", "do_filp_open", "path_openat", "may_open" })
            Assert.Contains(f, names);
        Assert.True(names.Contains("link_path_walk") || names.Contains("walk_component"), "link_path_walk or walk_component");
        Assert.Contains(names, n => n.StartsWith("security_", StringComparison.Ordinal));
        foreach (var f in new[] { "kfree", "_raw_spin_lock", "__fentry__", "capable" })
            Assert.DoesNotContain(f, names);
    }

    [Fact]
    public void Write_ReachesVfsWrite()
    {
        var graph = Graph();
        if (graph == null) return;
        var names = Functions(graph, "write");
        Assert.Contains("vfs_write", names);
        Assert.Contains("rw_verify_area", names);
    }

    [Fact]
    public void PerfEventOpen_ReachesPerfCopyAttr()
    {
        var graph = Graph();
        if (graph == null) return;
        var names = Functions(graph, "perf_event_open");
        Assert.Contains("perf_copy_attr", names);
        Assert.Contains("security_capable", names);
    }

    [Fact]
    public void IoUringSetup_HasAGraph()
    {
        var graph = Graph();
        if (graph == null) return;
        Assert.Contains("__x64_sys_io_uring_setup", Functions(graph, "io_uring_setup"));
    }

    [Fact]
    public void KcoreText_MatchesTheLiveKernel()
    {
        if (Graph() == null) return;
        var k = Kallsyms.Load();
        using var kcore = KernelText.FromKcore();
        Assert.True(k.TryGetSymbol("do_sys_openat2", out var f));
        var code = kcore.Read(f.Address, (int)f.Size);
        var sites = CallSiteScanner.Scan(code, code.Length, f.Address);
        Assert.Contains(sites, s => k.TryFindStart(s.Target, out var t) && t.Name == "do_filp_open");
    }

    [Fact]
    public void ModuleBtf_ReadsAsSplitBtf()
    {
        if (Graph() == null) return;
        var module = Directory.GetFiles("/sys/kernel/btf").FirstOrDefault(p => Path.GetFileName(p) != "vmlinux");
        if (module == null)
        {
            output.WriteLine("no module BTF loaded");
            return;
        }
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
