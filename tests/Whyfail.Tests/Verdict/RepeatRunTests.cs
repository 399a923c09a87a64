using System.Text;
using Whyfail.Analysis.Verdict;
using Whyfail.Events;
using Xunit;

namespace Whyfail.Tests.Verdict;

/// <summary>
/// A failure its thread repeats at once is judged when the repeat arrives, not after its 1 s wait
/// (<see cref="FailureTracker.JudgedAtRepeat"/>, issue 16.3): the run's latest failure still waits for what follows, the
/// output keeps its order, and anything between the two calls of the thread (a success, another errno, a linked message)
/// keeps the usual wait.
/// </summary>
public class RepeatRunTests
{
    /// <summary>A failing openat of <paramref name="path"/> as the capture makes a repeat: the same argument and memory objects.</summary>
    private sealed class Call(string path, int pid = 40, int tid = 40, long ret = -2)
    {
        private readonly ulong[] _args = [unchecked((ulong)-100), 0x1000, 0 /* O_RDONLY */, 0, 0, 0];
        private readonly IReadOnlyList<CapturedArg> _captured = [new CapturedArg(1, CaptureKind.String, 0, Encoding.UTF8.GetBytes(path), path.Length)];
        private readonly IReadOnlyList<string> _decoded = ["AT_FDCWD", $"\"{path}\"", "O_RDONLY"];

        public SyscallEvent At(ulong ts) => new()
        {
            Pid = pid, Tid = tid, Comm = "wf-run", Nr = 257, Ret = ret, KernelRet = ret, TimestampNs = ts,
            Args = _args, Captured = _captured, Syscall = "openat", DecodedArgs = _decoded,
        };
    }

    private static SyscallEvent Success(int tid, ulong ts) => new()
    {
        Pid = 40, Tid = tid, Comm = "wf-run", Nr = 257, Ret = 3, KernelRet = 3, TimestampNs = ts,
        Args = [unchecked((ulong)-100), 0x2000, 0, 0, 0, 0], Syscall = "openat", DecodedArgs = ["AT_FDCWD", "\"/etc/wf-other\"", "O_RDONLY"],
    };

    private static MessageWrite Message(string text, ulong ts) =>
        new(ts, 40, 40, 2, "write", text.Length, "wf-run", Encoding.UTF8.GetBytes(text));

    [Fact]
    public void ARunIsJudgedAsItRepeatsAndItsLatestWaitsForTheMessage()
    {
        var released = new List<SyscallEvent>();
        var tracker = new FailureTracker(released.Add, _ => { }, launcherPid: null);
        var call = new Call("/etc/wf-run.conf");
        for (ulong ts = 1; ts <= 100; ts++)
        {
            tracker.Add(call.At(ts), show: true);
            Assert.Equal((int)ts - 1, released.Count); // the one before went out when this one came
        }
        Assert.Equal(99, tracker.JudgedAtRepeat);
        Assert.Equal(0, tracker.JudgedEarly);
        // Each was judged as after its wait: the thread carried on (the next call), an optional file read only if it is there.
        Assert.All(released, e => Assert.Equal("optional files", e.Routine?.Label));
        Assert.Equal(Enumerable.Range(1, 99).Select(i => (ulong)i), released.Select(e => e.TimestampNs));

        // The message that follows the run names the path: it is linked to the run's latest failure, which was still held.
        tracker.Message(Message("wf-run: cannot open /etc/wf-run.conf: No such file or directory\n", 200));
        tracker.Finish(0);
        Assert.Equal(100, released.Count);
        var last = released[^1];
        Assert.Equal(100UL, last.TimestampNs);
        Assert.Equal("wf-run: cannot open /etc/wf-run.conf: No such file or directory", last.Consequence?.Message);
        Assert.Null(last.Routine); // linked to a message: not routine
        Assert.All(released.Take(99), e => Assert.Null(e.Consequence));
    }

    [Fact]
    public void AnythingBetweenTheTwoCallsKeepsTheWait()
    {
        var released = new List<SyscallEvent>();
        var tracker = new FailureTracker(released.Add, _ => { }, launcherPid: null);
        var missing = new Call("/etc/wf-run.conf");

        // A success of the thread between them: the first failure has a success after it (a pattern reads it).
        tracker.Add(missing.At(1), show: true);
        tracker.Add(Success(40, 2), show: false);
        tracker.Add(missing.At(3), show: true);
        // Another errno for the same path.
        tracker.Add(new Call("/etc/wf-run.conf", ret: -13).At(4), show: true);
        // Another path.
        tracker.Add(new Call("/etc/wf-run-2.conf").At(5), show: true);
        // A message linked to the failure before its repeat came.
        var linked = new Call("/etc/wf-run-3.conf");
        tracker.Add(linked.At(6), show: true);
        tracker.Message(Message("cannot open /etc/wf-run-3.conf\n", 7));
        tracker.Add(linked.At(8), show: true);
        // Another thread's failure is not its repeat, nor the other way round (each thread's runs are its own).
        tracker.Add(new Call("/etc/wf-run-4.conf", tid: 41).At(9), show: true);

        Assert.Empty(released);
        Assert.Equal(0, tracker.JudgedAtRepeat);
        tracker.Finish(0);
        Assert.Equal(7, released.Count);
        Assert.Equal("cannot open /etc/wf-run-3.conf", released.Single(e => e.TimestampNs == 6).Consequence?.Message);
    }

    [Fact]
    public void TheOutputKeepsItsOrderBehindAFailureThatWaits()
    {
        var released = new List<SyscallEvent>();
        var tracker = new FailureTracker(released.Add, _ => { }, launcherPid: null);
        // Another process's failure first: it waits its second; the run that follows is judged, but is not written before it.
        tracker.Add(new Call("/etc/wf-waits.conf", pid: 50, tid: 50).At(1), show: true);
        var call = new Call("/etc/wf-run.conf");
        for (ulong ts = 2; ts <= 11; ts++) tracker.Add(call.At(ts), show: true);
        Assert.Empty(released);
        Assert.Equal(9, tracker.JudgedAtRepeat);
        tracker.Finish(0);
        Assert.Equal(Enumerable.Range(1, 11).Select(i => (ulong)i), released.Select(e => e.TimestampNs));
    }

    [Fact]
    public void TwoThreadsFailingTheSameWayEachHaveTheirRun()
    {
        var released = new List<SyscallEvent>();
        var tracker = new FailureTracker(released.Add, _ => { }, launcherPid: null);
        var a = new Call("/etc/wf-run.conf", tid: 40);
        var b = new Call("/etc/wf-run.conf", tid: 41); // another copy of the path: other objects, the same call
        for (ulong ts = 1; ts <= 20; ts += 2)
        {
            tracker.Add(a.At(ts), show: true);
            tracker.Add(b.At(ts + 1), show: true);
        }
        Assert.Equal(18, tracker.JudgedAtRepeat); // all but each thread's latest
        Assert.Equal(Enumerable.Range(1, 18).Select(i => (ulong)i), released.Select(e => e.TimestampNs));
        tracker.Finish(0);
        Assert.Equal(20, released.Count);
    }
}
