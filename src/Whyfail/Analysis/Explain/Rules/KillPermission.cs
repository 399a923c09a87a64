using Whyfail.Events;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>EPERM from kill/tkill/tgkill/rt_sigqueueinfo/pidfd_send_signal: the target belongs to another user and the sender lacks CAP_KILL.</summary>
public sealed class KillPermission : IExplainRule
{
    public string Id => "signal.permission";

    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.EPERM &&
        ev.Syscall is "kill" or "tkill" or "tgkill" or "rt_sigqueueinfo" or "rt_tgsigqueueinfo" or "pidfd_send_signal";

    private static string Name(ProcessView proc, uint uid) => proc.UserName(uid) is { Length: > 0 } n ? $" ({n})" : "";

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        int target = ev.Syscall switch
        {
            "tgkill" or "rt_tgsigqueueinfo" => SyscallArgs.Int(ev, 1),
            "pidfd_send_signal" => proc.Fd(SyscallArgs.Int(ev, 0))?.Fields.GetValueOrDefault("Pid") is { } p && int.TryParse(p, out var v) ? v : 0,
            _ => SyscallArgs.Int(ev, 0),
        };
        int sig = SyscallArgs.Int(ev, ev.Syscall switch { "tgkill" or "rt_tgsigqueueinfo" => 2, _ => 1 });
        if (target <= 0) { proc.Checked.Add("nothing: the signal went to a process group or to every process"); yield break; }
        var tu = ProcFs.Uids(target);
        if (tu is not { Length: >= 3 }) { proc.Checked.Add($"pid {target} (gone now)"); yield break; }
        var c = proc.Creds;
        proc.Checked.Add($"the uids of pid {target} against the sender's and CAP_KILL");
        bool ok = c.Euid == tu[2] || c.Euid == tu[0] || c.Uid == tu[2] || c.Uid == tu[0];
        if (ok || c.HasCap(Cap.KILL)) yield break;
        yield return new Explanation(Id,
            $"{ProcFs.Who(target)} runs as real uid {tu[0]}, saved uid {tu[2]}{Name(proc, tu[0])} and pid {proc.Pid} as real uid {c.Uid}, effective uid {c.Euid}{Name(proc, c.Uid)} without CAP_KILL; sending signal {sig} needs the sender's real or effective uid to equal the target's real or saved uid",
            tu[0] == 0 ? $"send it as root (sudo kill -{sig} {target})" : $"send it as {proc.DescribeUser(tu[0])} or as root (sudo kill -{sig} {target})");
    }
}
