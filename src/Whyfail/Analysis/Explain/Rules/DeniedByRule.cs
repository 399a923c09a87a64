using Whyfail.Events;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// A call refused by a `whyfail deny` rule: names the rule, the LSM hook that refused and what matched. Runs right
/// after <see cref="Injected"/> and, like it, ends the search: the rule, not the program's state, made this error.
/// </summary>
public sealed class DeniedByRule : IExplainRule
{
    public string Id => "deny.rule";

    public bool AppliesTo(SyscallEvent ev) => ev.DeniedBy != null;

    public bool FromEvidence => true;

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        var d = ev.DeniedBy!;
        var sc = ev.Syscall.Length > 0 ? ev.Syscall : $"syscall {ev.Nr}";
        var matched = d.Subject == "port" ? $"port {d.Matched}" : $"the {d.Subject} {Words.Q(d.Matched)}";
        yield return new Explanation(Id,
            $"refused by whyfail deny rule {d.Rule} ({d.RuleText}): its BPF LSM program on the hook {d.Hook} matched {matched} " +
            $"for {d.Comm} (pid {d.Pid}, effective {proc.DescribeUser(d.Euid)}) and returned {Errnos.Name(d.Errno)}, so {sc} failed",
            $"nothing is wrong with the program or the system: `whyfail deny` refuses this while it runs; stop it, or narrow rule {d.Rule} " +
            "(user=U or user=!U by effective uid, comm=NAME, a tighter pattern)",
            true, FromErrno: true);
    }
}
