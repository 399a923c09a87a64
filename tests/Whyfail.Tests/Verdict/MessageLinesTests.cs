using System.Text;
using Whyfail.Analysis.Verdict;
using Whyfail.Events;
using Xunit;

namespace Whyfail.Tests.Verdict;

/// <summary>
/// How writes to standard error become message lines. The split that made the 6.1 and 6.12 labs link
/// ": Permission denied" to a locale lookup's failure: glibc's error() writes "cat: PATH", looks up a translation
/// (a failing openat), then writes ": Permission denied\n"; whyfail read the second write over 200 ms after the
/// first while the kernel's timestamps were 64 ms apart.
/// </summary>
public class MessageLinesTests
{
    private const ulong Ms = 1_000_000;
    private static MessageWrite W(ulong tsMs, string text) => new(tsMs * Ms, 7, 7, 2, "write", text.Length, "cat", Encoding.UTF8.GetBytes(text));

    [Fact]
    public void AWriterThatWasQuickInTheKernelKeepsItsLineWhateverWhyfailsDelay()
    {
        var lines = new MessageLines();
        Assert.Empty(lines.Add(W(1000, "cat: /x"), nowMs: 0));
        // whyfail's clock: 300 ms later; the kernel's: 64 ms after the write. Not finished.
        Assert.Empty(lines.Flush(300, kernelNowNs: 1064 * Ms));
        var done = Assert.Single(lines.Add(W(1064, ": Permission denied\n"), nowMs: 310));
        Assert.Equal("cat: /x: Permission denied", done.Line);
        Assert.Equal(1000 * Ms, done.Ts);
    }

    [Fact]
    public void AReaderBehindTheKernelKeepsTheLineUntilWhyfailsOwnClockSaysTheWriterStopped()
    {
        var lines = new MessageLines();
        Assert.Empty(lines.Add(W(1000, "cat: /x"), nowMs: 5000));
        // whyfail reads 2 s behind: the kernel's clock says 2 s, whyfail's 50 ms since it read the write.
        Assert.Empty(lines.Flush(5050, kernelNowNs: 3000 * Ms));
    }

    [Fact]
    public void AnUnfinishedLineIsTakenWhenBothClocksSayTheWriterStopped()
    {
        var lines = new MessageLines();
        Assert.Empty(lines.Add(W(1000, "progress 10%"), nowMs: 0));
        var done = Assert.Single(lines.Flush(250, kernelNowNs: 1250 * Ms));
        Assert.Equal("progress 10%", done.Line);
        Assert.Empty(lines.Flush(500, kernelNowNs: 1500 * Ms));
    }

    [Fact]
    public void TheEndOfTheProcessAndTheEndOfTheRunTakeEveryUnfinishedLine()
    {
        var lines = new MessageLines();
        lines.Add(W(1000, "a"), nowMs: 0);
        Assert.Single(lines.Flush(1, pid: 7, kernelNowNs: 1001 * Ms));
        lines.Add(W(2000, "b"), nowMs: 10);
        Assert.Single(lines.Flush(long.MaxValue, kernelNowNs: 2000 * Ms));
    }
}
