using System.Text;
using Whyfail.Analysis.Verdict;
using Whyfail.Events;
using Xunit;

namespace Whyfail.Tests.Verdict;

/// <summary>
/// The routine answer remembered per process while its <see cref="ProcessTrack.Version"/> stays (issue 16.3, bench/README
/// "The reader's cost per record, session 19"), compared with the long way after every step, including the steps that
/// change the answer (a second place tried, the name found elsewhere, the thread carrying on).
/// </summary>
public class RoutineMemoTests
{
    /// <summary>A failing openat of <paramref name="path"/> as the capture makes a repeat: the same argument and memory objects.</summary>
    private sealed class Call(string path)
    {
        private readonly ulong[] _args = [unchecked((ulong)-100), 0x1000, 0 /* O_RDONLY */, 0, 0, 0];
        private readonly IReadOnlyList<CapturedArg> _captured = [new CapturedArg(1, CaptureKind.String, 0, Encoding.UTF8.GetBytes(path), path.Length)];
        private readonly IReadOnlyList<string> _decoded = ["AT_FDCWD", $"\"{path}\"", "O_RDONLY"];

        public SyscallEvent At(ulong ts) => new()
        {
            Pid = 40, Tid = 40, Comm = "ld", Nr = 257, Ret = -2, KernelRet = -2, TimestampNs = ts,
            Args = _args, Captured = _captured, Syscall = "openat", DecodedArgs = _decoded,
        };
    }

    private static Routine? CheckedJudge(Tracked t, ProcessTrack p)
    {
        var longWay = RoutinePatterns.Judge(t, p).Routine;
        var remembered = RoutinePatterns.JudgeRemembered(t, p);
        Assert.Equal(longWay, remembered);
        return remembered;
    }

    [Fact]
    public void ARepeatGetsItsAnswerUntilWhatThePatternsReadOfTheProcessChanges()
    {
        var p = new ProcessTrack(40);
        var lib = new Call("/usr/lib/libwf-memo.so.1");
        // Made first: a subject is shared with the call before only (FailureSubject.Of), and the repeats below must share
        // theirs, so that only the process's version tells the memo that its answer is out of date.
        var elsewhere = new Tracked(new Call("/lib/libwf-memo.so.1").At(3), 0);
        var found = new Call("/opt/wf/libwf-memo.so.1").At(1000);
        var foundSubject = FailureSubject.Of(found);
        ulong ts = 1;

        var first = new Tracked(lib.At(ts++), 0);
        p.AddFailure(first);
        Assert.Null(CheckedJudge(first, p)); // one place, nothing after it: no pattern
        var repeat = new Tracked(lib.At(ts++), 0);
        p.AddFailure(repeat);
        Assert.Same(first.Subject, repeat.Subject); // what makes it a repeat for the memo
        Assert.Null(CheckedJudge(repeat, p));

        // The same name tried in a second place: a search now (the version moved; the memo's old answer was "none").
        int before = p.Version;
        p.AddFailure(elsewhere);
        Assert.NotEqual(before, p.Version);
        var again = new Tracked(lib.At(ts++), 0);
        Assert.Same(first.Subject, again.Subject);
        p.AddFailure(again);
        Assert.Equal("search", CheckedJudge(again, p)?.Kind);
        Assert.Contains("2 places", CheckedJudge(new Tracked(lib.At(ts++), 0), p)!.Reason);

        // The name then found elsewhere: the stronger answer (SearchFound) for a repeat judged after it.
        var later = new Tracked(lib.At(ts++), 0);
        Assert.Same(first.Subject, later.Subject);
        p.AddSuccess(found, foundSubject);
        Assert.Contains("then found at /opt/wf/libwf-memo.so.1", CheckedJudge(later, p)!.Reason);

        // The thread carried on: a different answer for the same call in a fresh process (optional file), not the memo's.
        var q = new ProcessTrack(41);
        var quiet = new Call("/etc/wf-memo.conf");
        var waiting = new Tracked(quiet.At(1), 0);
        q.AddFailure(waiting);
        Assert.Null(CheckedJudge(waiting, q));
        var carried = new Tracked(quiet.At(2), 0) { ThreadCarriedOn = true };
        q.AddFailure(carried);
        Assert.Equal("optional files", CheckedJudge(carried, q)?.Label);
    }
}
