using Whyfail.Events;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// A call whyfail itself failed (or made return a value) with --inject: says so, and how (the kernel filter, or the
/// supervisor's answer with the rule and the invocation count). Runs first, and no other rule runs after it: the
/// program's state did not cause this error, and whyfail's own seccomp filter must not be taken for the program's.
/// </summary>
public sealed class Injected : IExplainRule
{
    public string Id => "inject.injected";

    public bool AppliesTo(SyscallEvent ev) => ev.Injected;

    public bool FromEvidence => true;

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        var sc = ev.Syscall.Length > 0 ? ev.Syscall : $"syscall {ev.Nr}";
        yield return new Explanation(Id,
            $"injected by whyfail: {ev.InjectedBy}; {sc} did not run, and the program saw this {(ev.Failed ? "error" : "return value")} as if the kernel had returned it",
            "nothing to fix: this is the failure --inject asked for; see how the program handles it in the lines after this one",
            true, FromErrno: true);
    }
}
