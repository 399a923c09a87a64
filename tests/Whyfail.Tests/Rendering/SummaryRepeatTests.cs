using Whyfail.Rendering;
using Xunit;

namespace Whyfail.Tests.Rendering;

/// <summary>
/// The summary's count of a repeat of its last row (issue 16.3, bench/README "The reader's cost per record, session 19"):
/// added to that row when the counts are read, compared with a plain count after every call.
/// </summary>
public class SummaryRepeatTests
{
    [Fact]
    public void TheSummaryCountsARepeatInItsRowWhateverComesBetween()
    {
        var s = new TraceSummary();
        var naive = new Dictionary<(string, string, string), long>();
        string[] calls = ["openat", "openat", "openat", "stat", "openat", "openat", "stat", "stat"];
        foreach (var c in calls)
        {
            s.Count(c, "ENOENT", "ld");
            naive[(c, "ENOENT", "ld")] = naive.GetValueOrDefault((c, "ENOENT", "ld")) + 1;
            Assert.Equal(naive.OrderBy(kv => kv.Key), s.Counts.Select(kv => (kv.Key, kv.Value)).ToDictionary().OrderBy(kv => kv.Key));
        }
        Assert.Equal(5, s.Counts[("openat", "ENOENT", "ld")]);
        Assert.Equal(3, s.Counts[("stat", "ENOENT", "ld")]);
    }

    [Fact]
    public void PastTheRowLimitARepeatOfANewNameStaysInTheOtherRow()
    {
        var s = new TraceSummary();
        for (int i = 0; i < TraceSummary.MaxRows; i++) s.Count("openat", "ENOENT", $"p{i}");
        s.Count("openat", "ENOENT", "late");
        s.Count("openat", "ENOENT", "late");
        s.Count("openat", "ENOENT", "p7");
        s.Count("openat", "ENOENT", "p7");
        Assert.Equal(2, s.Counts[("openat", "ENOENT", "(other)")]);
        Assert.Equal(3, s.Counts[("openat", "ENOENT", "p7")]);
        Assert.False(s.Counts.ContainsKey(("openat", "ENOENT", "late")));
        Assert.Equal(TraceSummary.MaxRows + 1, s.Counts.Count);
    }
}
