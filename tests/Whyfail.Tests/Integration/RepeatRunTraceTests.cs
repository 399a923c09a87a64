using System.Text.Json;
using Xunit;

namespace Whyfail.Tests.Integration;

/// <summary>
/// Real programs that fail the same way again and again (issue 16.3): each failure their thread repeats at once is judged
/// when the repeat arrives (the summary's <c>judged_at_repeat</c>), with the same answer it had after its 1 s wait, and
/// the run's latest failure still waits for the end: it stays the verdict's culprit.
/// </summary>
[Collection("tracing")]
[Trait("suite", "integration")]
public class RepeatRunTraceTests
{
    [Fact]
    public void ARunOfOneFailureIsJudgedAsItRepeatsAndItsLatestIsTheCulprit()
    {
        // open_missing opens each argument (another copy of the same path each time: another pointer, the same call) and exits
        // with the number of failures: a bad end its last failure explains.
        const int n = 20;
        const string path = "/nonexistent/whyfail-repeat-run";
        var run = WhyfailRunner.Run(["--", WhyfailRunner.Program("open_missing"), .. Enumerable.Repeat(path, n)]);
        Assert.True(run.ExitCode == n, run.ToString());
        var failures = run.Failures("openat", "ENOENT").Where(e => e.GetProperty("args")[1].GetString() == $"\"{path}\"").ToList();
        Assert.Equal(n, failures.Count);
        Assert.Equal(n - 1, run.Summary.GetProperty("judged_at_repeat").GetInt64());
        Assert.Equal(0, run.Summary.GetProperty("judged_early").GetInt64());
        // The thread carried on after each of the first n-1: optional files, as after the wait.
        Assert.All(failures.Take(n - 1), f => Assert.Equal("optional files", f.GetProperty("routine").GetProperty("label").GetString()));
        // The last one waited for the end: not routine, and the culprit of the exit status n.
        Assert.Equal(JsonValueKind.Null, failures[^1].GetProperty("routine").ValueKind);
        var verdict = run.Lines.Single(l => l.GetProperty("type").GetString() == "verdict");
        Assert.Equal(n, verdict.GetProperty("exit_status").GetInt32());
        var culprit = Assert.Single(verdict.GetProperty("culprits").EnumerateArray());
        Assert.Equal(failures[^1].GetProperty("ts_ns").GetUInt64(), culprit.GetProperty("ts_ns").GetUInt64());
    }

    [Fact]
    public void TwoThreadsFloodingTheSameFailureHoldOnlyTheirLatest()
    {
        // flood's two threads (n calls in all) open the same missing path from buffers of their own (other pointers): each
        // thread's run is its own.
        const int n = 6000;
        var run = WhyfailRunner.Run(["--no-explain", "--", WhyfailRunner.Program("flood"), n.ToString(), "2"], TimeSpan.FromMinutes(5));
        Assert.True(run.ExitCode == 0, run.ToString());
        var failures = run.Failures("openat", "ENOENT").Where(e => e.GetProperty("args")[1].GetString() == "\"/nonexistent/whyfail-flood\"").ToList();
        Assert.Equal(n, failures.Count);
        long atRepeat = run.Summary.GetProperty("judged_at_repeat").GetInt64();
        // All but each thread's latest, unless something came between two calls of a thread (nothing does in this loop; a
        // margin for a context the kernel sent again in full).
        Assert.InRange(atRepeat, n - 50, n - 2);
        // Each was judged as after its wait: the thread carried on. Not each thread's last: when one thread ends before the
        // other, its last failure waits its second and is judged as the thread left it (the lab's emulated CPU does that).
        foreach (var thread in failures.GroupBy(f => f.GetProperty("tid").GetInt32()))
            Assert.All(thread.SkipLast(1), f => Assert.Equal("probe", f.GetProperty("routine").GetProperty("kind").GetString()));
    }
}
