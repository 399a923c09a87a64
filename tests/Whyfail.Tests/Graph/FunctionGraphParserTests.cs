using Whyfail.Graph;
using Xunit;

namespace Whyfail.Tests.Graph;

/// <summary>
/// The function_graph text parser, on lines as the Debian 6.1 lab kernel printed them (trace_pipe with
/// funcgraph-abstime, -proc and -tail) for the failing io_uring_setup of tests/programs.
/// </summary>
public class FunctionGraphParserTests
{
    private static readonly Dictionary<string, (string, int)> Entries = new() { ["__x64_sys_io_uring_setup"] = ("io_uring_setup", 425) };

    private static List<Invocation> Parse(params string[] lines)
    {
        var done = new List<Invocation>();
        var p = new FunctionGraphParser(Entries, done.Add);
        foreach (var l in lines) p.Line(l);
        p.Finish();
        return done;
    }

    [Fact]
    public void BuildsOneTreePerInvocationWithDurations()
    {
        var trees = Parse(
            "   26.281421 |   0)  uring_t-144   |   2.697 us    |      fd_install();",
            "   26.281458 |   0)  uring_t-144   | * 46915.19 us |    } /* io_uring_setup */",
            "   26.281464 |   0)  uring_t-144   | * 47006.80 us |  } /* __x64_sys_io_uring_setup */",
            "   26.282698 |   0)  uring_t-144   |               |  __x64_sys_io_uring_setup() {",
            "   26.282701 |   0)  uring_t-144   | + 14.477 us   |    io_uring_setup();",
            "   26.282718 |   0)  uring_t-144   | + 22.277 us   |  } /* __x64_sys_io_uring_setup */",
            " ------------------------------------------",
            " 1)    <idle>-0    =>   kworker-9   ",
            " ------------------------------------------");
        var t = Assert.Single(trees); // the lines before the entry belong to no recorded invocation
        Assert.Equal(144, t.Tid);
        Assert.Equal("__x64_sys_io_uring_setup", t.Root.Name);
        Assert.Equal(22.277, t.Root.DurationUs);
        var child = Assert.Single(t.Root.Children);
        Assert.Equal("io_uring_setup", child.Name);
        Assert.Equal(14.477, child.DurationUs);
        Assert.Equal(26282718.0, t.EndUs);
    }

    [Fact]
    public void TaskNamesWithBarsAndDashesDoNotShiftTheColumns()
    {
        // A process chooses its own name (prctl PR_SET_NAME): '|' and '-' must not confuse the parser.
        var trees = Parse(
            "   26.282698 |   0)  a|b-c-144   |               |  __x64_sys_io_uring_setup() {",
            "   26.282701 |   0)  a|b-c-144   | + 14.477 us   |    io_uring_setup();",
            "   26.282718 |   0)  a|b-c-144   | + 22.277 us   |  } /* __x64_sys_io_uring_setup */");
        var t = Assert.Single(trees);
        Assert.Equal(144, t.Tid);
        Assert.Equal("io_uring_setup", Assert.Single(t.Root.Children).Name);
    }

    [Fact]
    public void LostEventsAreCountedAndOpenCallsDelivered()
    {
        var done = new List<Invocation>();
        var p = new FunctionGraphParser(Entries, done.Add);
        p.Line("   26.282698 |   0)  uring_t-144   |               |  __x64_sys_io_uring_setup() {");
        p.Line("CPU:0 [LOST 17 EVENTS]");
        Assert.Empty(done);
        p.Finish();
        Assert.Equal(17, p.LostEvents);
        Assert.Null(Assert.Single(done).EndUs);
    }

    [Theory]
    [InlineData("+ 14.477 us", 14.477)]
    [InlineData("! 363.727 us", 363.727)]
    [InlineData("$ 1293704 us", 1293704.0)]
    [InlineData("  2.697 us", 2.697)]
    [InlineData("     ", null)]
    public void Durations(string text, double? us) => Assert.Equal(us, FunctionGraphParser.ParseDuration(text));
}
