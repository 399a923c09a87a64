using Xunit;

namespace Whyfail.Tests.Integration;

/// <summary>
/// Calls a signal with a handler interrupts (tests/programs/sleep_interrupted.c: rt_sigsuspend with the signal
/// pending before the call, nanosleep and pause signalled while blocked): the line says what the kernel returned
/// (`= ? ERESTARTNOHAND (...)`, as strace does) and what the program got (`=> -1 EINTR`); JSON keeps both.
/// One JSON run and one text run of the same program.
/// </summary>
[Collection("tracing")]
[Trait("suite", "integration")]
public class InterruptedCallTests
{
    [Fact]
    public void InterruptedCallsShowTheKernelsCodeAndWhatTheProgramGot()
    {
        string prog = WhyfailRunner.Program("sleep_interrupted");
        var run = WhyfailRunner.Run("--", prog);
        Assert.True(run.ExitCode == 0, run.ToString());

        // Pending before the call: no signal was sent while it ran; the kernel side found it pending at exit.
        var suspend = Assert.Single(run.Failures("rt_sigsuspend", "EINTR"));
        Assert.Equal("ERESTARTNOHAND", suspend.GetProperty("kernel_errno").GetString());
        Assert.Equal(-514, suspend.GetProperty("kernel_ret").GetInt64());
        Assert.Equal("[]", suspend.GetProperty("args")[0].GetString());
        var pending = Assert.Single(suspend.GetProperty("evidence").EnumerateArray(), x => x.GetProperty("kind").GetString() == "signal");
        Assert.Equal("SIGUSR1", pending.GetProperty("signal").GetString());
        Assert.StartsWith("0x", pending.GetProperty("handler").GetString());
        Assert.Equal("sent before the call, pending at its exit", pending.GetProperty("result").GetString());
        Assert.Contains(suspend.GetProperty("explanation").EnumerateArray(), x => x.GetProperty("rule").GetString() == "signal.interrupted");

        var sleeps = run.Failures("nanosleep", "EINTR").ToList();
        Assert.True(sleeps.Count == 1, $"expected one nanosleep EINTR, found {sleeps.Count}:\n{run}");
        var sleep = sleeps[0];
        // The handler is read by the kernel side at the call's exit: a /proc read after the program has become a
        // zombie finds no handlers (SigCgt 0) and would call this interruption a restart.
        var usr1 = Assert.Single(sleep.GetProperty("evidence").EnumerateArray(),
            x => x.GetProperty("kind").GetString() == "signal" && x.GetProperty("signal").GetString() == "SIGUSR1");
        Assert.StartsWith("0x", usr1.GetProperty("handler").GetString());
        Assert.Equal("ERESTART_RESTARTBLOCK", sleep.GetProperty("kernel_errno").GetString());
        Assert.Equal("{tv_sec=5, tv_nsec=0}", sleep.GetProperty("args")[0].GetString());
        // The remaining time the kernel wrote back: under 5 s, more than 0 (the signal came within a second or so).
        string rem = sleep.GetProperty("args")[1].GetString()!;
        Assert.Matches(@"^\{tv_sec=[0-4], tv_nsec=\d+\}$", rem);

        var pause = Assert.Single(run.Failures("pause", "EINTR"));
        Assert.Equal("ERESTARTNOHAND", pause.GetProperty("kernel_errno").GetString());
        Assert.Contains(pause.GetProperty("explanation").EnumerateArray(), x => x.GetProperty("rule").GetString() == "signal.interrupted");

        var (code, text, _) = WhyfailRunner.RunText("--color", "never", "--no-explain", "--", prog);
        Assert.True(code == 0, text);
        Assert.Contains("] pause() = ? ERESTARTNOHAND (To be restarted if no handler) => -1 EINTR (Interrupted system call)", text);
        Assert.Contains("] rt_sigsuspend([], 8) = ? ERESTARTNOHAND (To be restarted if no handler) => -1 EINTR (Interrupted system call)", text);
        Assert.Matches(@"\] nanosleep\(\{tv_sec=5, tv_nsec=0\}, \{tv_sec=[0-4], tv_nsec=\d+\}\) = \? ERESTART_RESTARTBLOCK \(.+\) => -1 EINTR \(Interrupted system call\)", text);
    }
}
