using System.Text.Json;
using Xunit;

namespace Whyfail.Tests.Integration;

/// <summary>
/// Explanations at flood rate (issue 16): identical failures of one process share one explanation, and
/// failures that differ (another path) are never given another failure's explanation.
/// </summary>
[Collection("tracing")]
[Trait("suite", "integration")]
public class ExplanationReuseTests
{
    private static string Why(JsonElement ev) =>
        string.Join(" | ", ev.GetProperty("explanation").EnumerateArray().Select(x => x.GetProperty("rule").GetString() + ": " + x.GetProperty("text").GetString()));

    [Fact]
    public void IdenticalFailuresShareOneExplanation()
    {
        const int n = 3000;
        var run = WhyfailRunner.Run(["--", WhyfailRunner.Program("flood"), n.ToString()], TimeSpan.FromMinutes(5));
        Assert.True(run.ExitCode == 0, run.ToString());
        var failures = run.Failures("openat", "ENOENT").Where(e => e.GetProperty("args")[1].GetString() == "\"/nonexistent/whyfail-flood\"").ToList();
        Assert.Equal(n, failures.Count);
        // Every failure is explained, and the same way: the first one's live check holds for the others.
        string first = Why(failures[0]);
        Assert.Contains("path.missing_component", first);
        Assert.All(failures, f => Assert.Equal(first, Why(f)));
        // 3000 failures take milliseconds: all but the first (and any after a pause of over 1 s) are reused.
        long reused = run.Summary.GetProperty("explanations_reused").GetInt64();
        Assert.True(reused >= n - 20, $"only {reused} of {n} identical failures reused an explanation");
        Assert.Equal(0, run.Summary.GetProperty("explanations_skipped").GetInt64());
    }

    [Fact]
    public void FailuresThatDifferAreExplainedEachOnItsOwn()
    {
        const int n = 300;
        var run = WhyfailRunner.Run(["--", WhyfailRunner.Program("flood"), n.ToString(), "1", "vary"], TimeSpan.FromMinutes(5));
        Assert.True(run.ExitCode == 0, run.ToString());
        var failures = run.Failures("openat", "ENOENT").Where(e => e.GetProperty("args")[1].GetString()!.StartsWith("\"/nonexistent/whyfail-flood-", StringComparison.Ordinal)).ToList();
        Assert.Equal(n, failures.Count);
        Assert.Equal(0, run.Summary.GetProperty("explanations_reused").GetInt64());
        // Each explanation is about its own call (the missing component is the same, "/nonexistent",
        // but nothing of another failure leaks in: the explanation was made for this event).
        Assert.All(failures, f => Assert.Contains("path.missing_component", Why(f)));
    }

    [Fact]
    public void AFloodOfVariedFailuresIsReportedWithExplanationsSkippedRatherThanBlocking()
    {
        // A small ring (256 KiB, ~1,500 events) and 20,000 different failures in a few milliseconds:
        // explaining each (~100 µs) cannot keep up, so whyfail reports them without explanations while a
        // quarter of the ring is waiting. Every failure is accounted for: reported (explained or marked
        // skipped, with the reason) or counted as lost.
        const int n = 20000;
        var run = WhyfailRunner.Run(["--buffer-size", "256K", "--", WhyfailRunner.Program("flood"), n.ToString(), "1", "vary"], TimeSpan.FromMinutes(5));
        Assert.True(run.ExitCode == 0, run.ToString());
        var failures = run.Failures("openat", "ENOENT").Where(e => e.GetProperty("args")[1].GetString()!.StartsWith("\"/nonexistent/whyfail-flood-", StringComparison.Ordinal)).ToList();
        long lost = run.Summary.GetProperty("lost").GetInt64(), skipped = run.Summary.GetProperty("explanations_skipped").GetInt64();
        // (lost counts every event, the few failures of the program's start-up among them)
        Assert.InRange(failures.Count + lost, n, n + 100);
        Assert.True(skipped > 0, $"no explanation skipped ({failures.Count} reported, {lost} lost)");
        var marked = failures.Where(f => Why(f).StartsWith("skipped: not explained: whyfail could not keep up", StringComparison.Ordinal)).ToList();
        Assert.Equal(skipped, marked.Count);
        Assert.All(failures.Except(marked), f => Assert.Contains("path.missing_component", Why(f)));
    }
}
