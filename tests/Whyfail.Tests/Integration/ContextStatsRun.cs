using System.Text.RegularExpressions;
using Xunit;

namespace Whyfail.Tests.Integration;

/// <summary>
/// The setup ContextChangeTests and ContextRepeatTests share: a test program (tests/programs) run under whyfail in a
/// fresh directory with WHYFAIL_CONTEXT_STATS=1, which must end well with every context reference known to user space.
/// </summary>
internal static partial class ContextStatsRun
{
    /// <summary>What WHYFAIL_CONTEXT_STATS says at the end: contexts sent whole and as references to one sent before.</summary>
    internal readonly record struct Counts(int Bases, int References);

    [GeneratedRegex(@"contexts: (\d+) bases, (\d+) references, (\d+) unknown")]
    private static partial Regex StatsLine();

    /// <summary>
    /// Runs <paramref name="program"/> with a new directory as its argument, checks the run (exit 0, no failure missed, no
    /// unknown reference), and hands the run, the directory and the counts to <paramref name="check"/>; the directory is
    /// removed after.
    /// </summary>
    internal static void Run(string program, Action<WhyfailRun, string, Counts> check)
    {
        var dir = Directory.CreateTempSubdirectory("wf-" + program + "-").FullName;
        try
        {
            var run = WhyfailRunner.Run(["--", WhyfailRunner.Program(program), dir], TimeSpan.FromMinutes(3),
                env: new Dictionary<string, string> { ["WHYFAIL_CONTEXT_STATS"] = "1" });
            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.DoesNotContain("was not seen", run.Stderr);
            var stats = StatsLine().Match(run.Stderr);
            Assert.True(stats.Success, run.ToString());
            Assert.Equal("0", stats.Groups[3].Value);
            check(run, dir, new Counts(int.Parse(stats.Groups[1].Value), int.Parse(stats.Groups[2].Value)));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
