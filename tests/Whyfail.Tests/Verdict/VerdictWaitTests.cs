using System.Text;
using Whyfail.Analysis.Verdict;
using Whyfail.Events;
using Xunit;

namespace Whyfail.Tests.Verdict;

/// <summary>
/// A failure waits a second for what follows it: a second of the kernel's time, read (an event that much later was read),
/// or a second on the reader's clock once the reader has caught up with the ring buffer. A reader held up (its output
/// blocked by a slow pipe, a long collection) does not judge a failure before it has read what followed it (the lab's
/// emulated CPU judged a flood's failures as "the thread did not carry on" that way).
/// </summary>
public class VerdictWaitTests
{
    private static SyscallEvent Failure(int tid, ulong ts, string path) => new()
    {
        Pid = 40, Tid = tid, Comm = "wf-wait", Nr = 257, Ret = -2, KernelRet = -2, TimestampNs = ts,
        Args = [unchecked((ulong)-100), 0x1000, 0, 0, 0, 0],
        Captured = [new CapturedArg(1, CaptureKind.String, 0, Encoding.UTF8.GetBytes(path), path.Length)],
        Syscall = "openat", DecodedArgs = ["AT_FDCWD", $"\"{path}\"", "O_RDONLY"],
    };

    private const ulong Second = 1_000_000_000;

    [Fact]
    public void ASecondOfTheKernelsTimeReadEndsTheWait()
    {
        var released = new List<SyscallEvent>();
        var tracker = new FailureTracker(released.Add, _ => { }, launcherPid: null);
        tracker.Add(Failure(41, 10 * Second, "/etc/wf-a"), show: true);
        tracker.Add(Failure(42, 10 * Second + Second / 2, "/etc/wf-b"), show: true);
        Assert.Empty(released);
        tracker.Add(Failure(43, 11 * Second + Second / 5, "/etc/wf-c"), show: true);
        Assert.Equal(["\"/etc/wf-a\""], released.Select(e => e.DecodedArgs[1])); // the second one's second is not over
        tracker.Finish(0);
        Assert.Equal(3, released.Count);
    }

    [Fact]
    public void TheReadersClockEndsTheWaitOnlyOnceItHasCaughtUp()
    {
        var released = new List<SyscallEvent>();
        var tracker = new FailureTracker(released.Add, _ => { }, launcherPid: null);
        tracker.Add(Failure(41, 5 * Second, "/etc/wf-a"), show: true);
        Thread.Sleep(FailureTracker.DecisionDelayMs + 100);
        // More waits in the ring buffer: what follows the failure may be there.
        tracker.Tick(readerCaughtUp: false);
        Assert.Empty(released);
        // Reading on (its thread carried on): an event read in the middle of a batch never ends a wait by the reader's clock.
        tracker.Add(Failure(41, 5 * Second + 1000, "/etc/wf-b"), show: true);
        Assert.Empty(released);
        tracker.Tick(readerCaughtUp: true);
        var first = Assert.Single(released);
        Assert.Equal("optional files", first.Routine?.Label); // judged knowing that its thread carried on
        tracker.Finish(0);
        Assert.Equal(2, released.Count);
    }
}
