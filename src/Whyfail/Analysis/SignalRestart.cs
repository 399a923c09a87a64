using Whyfail.Analysis.Evidence;
using Whyfail.Events;
using static Whyfail.Errnos;

namespace Whyfail.Analysis;

/// <summary>
/// What user space actually receives when a call is interrupted by a signal. At syscall exit the
/// kernel returns an internal ERESTART* code; signal delivery then restarts the call or turns the
/// code into EINTR (arch/x86/kernel/signal.c, handle_signal):
///   ERESTARTSYS           → EINTR if the handler lacks SA_RESTART, else restarted
///   ERESTARTNOHAND,
///   ERESTART_RESTARTBLOCK → EINTR when a handler runs
///   ERESTARTNOINTR        → always restarted
/// Without a handler (default action or ignored) every ERESTART* call is restarted.
/// </summary>
public static class SignalRestart
{

    public static void Apply(SyscallEvent ev)
    {
        int k = ev.KernelErrno;
        if (k is not (ERESTARTSYS or ERESTARTNOHAND or ERESTART_RESTARTBLOCK)) return;
        var sig = ev.Evidence.OfType<SignalEvidence>().LastOrDefault(s => s.Interrupts);
        // The kernel side read the handler at the call's exit; /proc is the fallback for records without it (a late
        // read can find the task already released, SigCgt 0, and call a real EINTR a restart).
        if (sig == null || !(sig.Catches ?? HasHandler(ev.Pid, sig.Signal))) return;
        if (k == ERESTARTSYS && sig.Restart)
        {
            ev.Explanation.Add(new Explanation("signal.restarted",
                $"{sig.Who} interrupted {ev.Syscall}; its handler has SA_RESTART, so the kernel restarted the call (user space does not see this failure)"));
            return;
        }
        ev.Ret = -EINTR;
        ev.Explanation.Add(new Explanation("signal.interrupted",
            k == ERESTARTSYS
                ? $"{sig.Who} interrupted the call; its handler was installed without SA_RESTART, so the kernel returned EINTR instead of restarting it"
                : $"{sig.Who} interrupted the call and a handler ran, so the kernel returned EINTR (this call is never restarted after a handler)",
            k == ERESTARTSYS ? "install the handler with SA_RESTART (sigaction), or retry the call on EINTR" : "retry the call on EINTR"));
    }

    /// <summary>Whether the process catches the signal (SigCgt in /proc/PID/status), read while it still runs.</summary>
    private static bool HasHandler(int pid, int sig)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                if (line.StartsWith("SigCgt:"))
                    return ((Convert.ToUInt64(line[7..].Trim(), 16) >> (sig - 1)) & 1) != 0;
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        // Process gone: the evidence alone decides (a handler with or without SA_RESTART was recorded).
        return true;
    }
}
