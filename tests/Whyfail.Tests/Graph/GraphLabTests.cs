using System.Diagnostics;
using System.Text.Json;
using Whyfail.Tests.Integration;
using Xunit;

namespace Whyfail.Tests.Graph;

/// <summary>
/// `whyfail graph` on kernels with function_graph (the lab's Debian 6.1 and 6.12): real programs make a
/// successful and a failing call of the same syscall; only the failing tree is kept, its error path
/// is marked, and the diff names where the two calls part. Function names are the real kernel's.
/// </summary>
[Collection("tracing")]
[Trait("kernel", "lab")]
public class GraphLabTests
{
    private const string Tracing = "/sys/kernel/tracing";
    private static readonly TimeSpan Slow = TimeSpan.FromMinutes(10);

    private static JsonElement FailingGraph(GraphRunner.Result run, string syscall)
    {
        Assert.True(run.ExitCode == 0, run.ToString()); // the programs exit 0 when their calls behaved as planned
        var g = Assert.Single(run.Graphs);
        Assert.Equal(syscall, g.GetProperty("syscall").GetString());
        Assert.Equal("EINVAL", g.GetProperty("errno").GetString());
        Assert.Equal($"__x64_sys_{syscall}", g.GetProperty("tree").GetProperty("function").GetString());
        var summary = run.Lines.Last();
        Assert.Equal("graph_summary", summary.GetProperty("type").GetString());
        Assert.Equal(2, summary.GetProperty("recorded").GetInt32());         // one successful, one failing call
        Assert.Equal(1, summary.GetProperty("successful_discarded").GetInt32());
        return g;
    }

    private static List<string> ErrorPath(JsonElement g) => GraphRunner.Strings(g.GetProperty("error_path").GetProperty("functions"));

    private static void AssertCleanedUp()
    {
        Assert.Empty(Directory.GetDirectories(Path.Combine(Tracing, "instances"), "whyfail-*"));
        Assert.Equal("nop", File.ReadAllText(Path.Combine(Tracing, "current_tracer")).Trim());
        Assert.StartsWith("#", File.ReadAllText(Path.Combine(Tracing, "set_graph_function")).Trim()); // "#### all functions enabled ####"
    }

    [Fact]
    public void IoUringSetupWithAMissingCpuFailsAfterTheRingIsBuiltAndNeverReachesFdInstall()
    {
        var run = GraphRunner.Run(["--syscall", "io_uring_setup", "--diff", "--json", "--", WhyfailRunner.Program("uring_bad_cpu")], Slow);
        var g = FailingGraph(run, "io_uring_setup");
        var path = ErrorPath(g);
        Assert.Equal("__x64_sys_io_uring_setup", path[0]);
        Assert.Contains("io_uring_setup", path);
        var calls = GraphRunner.Calls(g.GetProperty("tree")).Select(c => c.GetProperty("function").GetString()).ToHashSet();
        Assert.DoesNotContain("fd_install", calls);
        var diff = g.GetProperty("diff");
        Assert.Equal(JsonValueKind.Object, diff.ValueKind);
        Assert.Contains("fd_install", GraphRunner.Strings(diff.GetProperty("never_reached")));
        Assert.Equal("__x64_sys_io_uring_setup", GraphRunner.Strings(diff.GetProperty("path"))[0]);
        // The thread named itself with markup: it arrives as data, escaped by the JSON writer.
        Assert.Equal("<b>ring|&'\"", g.GetProperty("comm").GetString());
        Assert.DoesNotContain("<b>", run.Output);
        AssertCleanedUp();
    }

    [Fact]
    public void PerfEventOpenWithUndefinedBranchBitsFailsInPerfCopyAttr()
    {
        var run = GraphRunner.Run(["--syscall", "perf_event_open", "--diff", "--json", "--", WhyfailRunner.Program("perf_bad_branch"), "ok-first"], Slow);
        var g = FailingGraph(run, "perf_event_open");
        Assert.Contains("perf_copy_attr", ErrorPath(g));
        var diff = g.GetProperty("diff");
        // They part at perf_copy_attr: inside it, or right after it returned.
        Assert.True(GraphRunner.Strings(diff.GetProperty("path")).Contains("perf_copy_attr") || diff.GetProperty("last_common").GetString() == "perf_copy_attr", diff.ToString());
        Assert.Contains("perf_event_alloc", GraphRunner.Strings(diff.GetProperty("never_reached")));
        AssertCleanedUp();
    }

    [Fact]
    public void SigtermRemovesThePrivateInstance()
    {
        using var sleeper = Process.Start("sleep", "600");
        try
        {
            // --backend none: this is about the tracefs instance; origin probes would only cost attach and detach time.
            var run = GraphRunner.Run(["--syscall", "openat", "--backend", "none", "-p", sleeper.Id.ToString()], TimeSpan.FromMinutes(5), whyfail =>
            {
                var sw = Stopwatch.StartNew();
                while (!File.Exists(Path.Combine(Tracing, "instances", $"whyfail-{whyfail.Id}", "trace")) && sw.Elapsed < TimeSpan.FromMinutes(4))
                    Thread.Sleep(200);
                Thread.Sleep(2000);
                Process.Start("kill", ["-TERM", whyfail.Id.ToString()])!.WaitForExit();
            });
            Assert.True(run.ExitCode == 0, run.ToString());
            AssertCleanedUp();
        }
        finally
        {
            sleeper.Kill();
        }
    }
}
