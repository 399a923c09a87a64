using Whyfail.Tests.Integration;
using Xunit;

namespace Whyfail.Tests.Graph;

/// <summary>`whyfail graph` on the locked-down host, which has no function_graph tracer: a plain refusal.</summary>
[Trait("kernel", "host")]
public class GraphHostTests
{
    [Fact]
    public void WithoutFunctionGraphItSaysWhyAndWhatWouldEnableIt()
    {
        var run = GraphRunner.Run(["--syscall", "openat", "--", WhyfailRunner.Program("open_missing"), "/nonexistent-whyfail/x"], TimeSpan.FromMinutes(2));
        Assert.True(run.ExitCode == 4, run.ToString()); // 4: the kernel lacks a feature
        Assert.Contains("cannot record call graphs: this kernel has no function_graph tracer", run.Stderr);
        Assert.Contains("CONFIG_FUNCTION_GRAPH_TRACER", run.Stderr);
        Assert.Empty(Directory.GetDirectories("/sys/kernel/tracing/instances", "whyfail-*"));
    }

    [Fact]
    public void SyscallIsRequiredAndChecked()
    {
        var run = GraphRunner.Run(["--", "true"], TimeSpan.FromMinutes(1));
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("--syscall is required", run.Stderr);
        run = GraphRunner.Run(["--syscall", "io_uring_setpu", "--", "true"], TimeSpan.FromMinutes(1));
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("did you mean io_uring_setup", run.Stderr);
    }
}
