using System.Diagnostics;
using Whyfail.Analysis;
using Whyfail.Events;
using Xunit;

namespace Whyfail.Tests.Analysis;

/// <summary>
/// Whether an interrupted call became EINTR is decided by the handler the kernel side read at the call's exit; /proc
/// is only the fallback for records without it. The process here is a real `sleep`, which does not catch SIGUSR1
/// (SigCgt bit clear): what /proc says at explanation time, as it does for a program that has become a zombie.
/// </summary>
public class SignalRestartTests
{
    private static SyscallEvent Interrupted(int pid, ulong? handler)
    {
        var ev = new SyscallEvent { Nr = 35, Syscall = "nanosleep", Ret = -516, KernelRet = -516, Pid = pid, Tid = pid };
        ev.Evidence.Add(new SignalEvidence(10, 99, 0, 0, handler: handler));
        return ev;
    }

    private static void WithSleep(Action<int> body)
    {
        using var p = Process.Start(new ProcessStartInfo("sleep", "30") { UseShellExecute = false })!;
        try { body(p.Id); }
        finally { p.Kill(); p.WaitForExit(); }
    }

    [Fact]
    public void AHandlerReadAtExitMakesEintrWhateverProcSaysLater() => WithSleep(pid =>
    {
        var ev = Interrupted(pid, 0x401136);
        SignalRestart.Apply(ev);
        Assert.Equal(-4, ev.Ret);
        Assert.Contains(ev.Explanation, x => x.Rule == "signal.interrupted");
    });

    [Fact]
    public void TheDefaultActionOrIgnoreRestartsTheCall() => WithSleep(pid =>
    {
        foreach (ulong h in new[] { SignalEvidence.SIG_DFL, SignalEvidence.SIG_IGN })
        {
            var ev = Interrupted(pid, h);
            SignalRestart.Apply(ev);
            Assert.Equal(-516, ev.Ret);
            Assert.Empty(ev.Explanation);
        }
    });

    [Fact]
    public void WithoutTheKernelsReadProcDecides() => WithSleep(pid =>
    {
        var ev = Interrupted(pid, null);
        SignalRestart.Apply(ev);
        Assert.Equal(-516, ev.Ret); // sleep does not catch SIGUSR1
    });

    [Fact]
    public void TheEvidenceSaysWhatTheHandlerWas()
    {
        Assert.Contains("no handler (default action)", new SignalEvidence(10, 99, 0, 0, handler: 0).Text);
        Assert.Contains("ignored (SIG_IGN)", new SignalEvidence(10, 99, 0, 0, handler: 1).Text);
        Assert.Contains("does not have SA_RESTART", new SignalEvidence(10, 99, 0, 0, handler: 0x401136).Text);
        Assert.Equal("0x401136", new SignalEvidence(10, 99, 0, 0, handler: 0x401136).Fields.Single(f => f.Name == "handler").Value);
        Assert.Equal("unknown", new SignalEvidence(10, 99, 0, 0).Fields.Single(f => f.Name == "handler").Value);
    }
}
