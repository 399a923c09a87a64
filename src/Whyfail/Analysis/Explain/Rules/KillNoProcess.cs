using Whyfail.Events;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// ESRCH from kill/tkill/tgkill/rt_sigqueueinfo: no such process (a stale pid, as from a pid file whose process has
/// ended). A zombie still receives signals (kill succeeds), so ESRCH means the process was already reaped. A pid in use
/// now is called reused only when that process provably started after the call.
/// </summary>
public sealed class KillNoProcess : IExplainRule
{
    public string Id => "signal.no_process";

    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.ESRCH &&
        ev.Syscall is "kill" or "tkill" or "tgkill" or "rt_sigqueueinfo" or "rt_tgsigqueueinfo";

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        bool thread = ev.Syscall is "tgkill" or "rt_tgsigqueueinfo";
        int target = SyscallArgs.Int(ev, thread ? 1 : 0);
        int tgid = thread ? SyscallArgs.Int(ev, 0) : 0;
        if (ev.Syscall is "kill" or "rt_sigqueueinfo" && target < -1)
        {
            proc.Checked.Add($"process group {-target}");
            yield return new Explanation(Id,
                $"no process is in process group {-target} (kill with a negative pid signals a whole group): the group's processes have all exited",
                null);
            yield break;
        }
        if (target <= 0) { proc.Checked.Add("nothing: the signal went to the caller's group or to every process"); yield break; }
        proc.Checked.Add($"pid {target} now");
        string what = ev.Syscall == "tkill" ? "thread" : "process";
        string now;
        if (Directory.Exists($"/proc/{target}"))
        {
            if (!ProcessView.StartedAfter(target, ev.TimestampNs)) yield break; // there at the call: not ours to explain
            now = $"; pid {target} is in use again now, by {ProcFs.Who(target)}, a process that started after the call (the pid was reused)";
        }
        else now = $"; no pid {target} exists now either";
        string which = thread ? $"no thread {target} in thread group {tgid} existed" : $"no {what} with pid {target} existed";
        yield return new Explanation(Id,
            $"{which} in the caller's pid namespace: it had exited and been reaped (a zombie, exited but not yet reaped, would still have accepted the signal){now}",
            "a pid taken from a pid file or an earlier listing goes stale when its process ends: check that the program is running (pgrep, systemctl status) before signalling it, and remove a stale pid file");
    }
}
