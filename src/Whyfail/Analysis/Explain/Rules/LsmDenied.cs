using Whyfail.Analysis.Evidence;
using Whyfail.Events;
using static Whyfail.Analysis.Explain.Words;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// A security module's denial logged during the call (<see cref="LsmEvidence"/>, from the kernel's audit log): the
/// module, the confining profile / context / domain, the operation and the object it refused. The file permissions
/// may allow the call; the module said no after them.
/// </summary>
public sealed class LsmDenied : IExplainRule
{
    public string Id => "lsm.denied";

    public bool AppliesTo(SyscallEvent ev) => ev.Evidence.OfType<LsmEvidence>().Any();

    public bool FromEvidence => true;

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        foreach (var d in ev.Evidence.OfType<LsmEvidence>())
        {
            var what = (d.Operation is { } op ? Q(op) : "the operation") + (d.Object is { } o ? $" on {Q(o)}" : "");
            switch (d.Lsm)
            {
                case "apparmor":
                    yield return new Explanation(Id,
                        $"the AppArmor profile {Q(d.Subject ?? "?")} confining pid {ev.Pid} denied {what}" +
                        (d.Denied is { } dm ? $" (denied access: {Q(dm)})" : ""),
                        $"allow it in the profile {Q(d.Subject ?? "?")} (its file under /etc/apparmor.d; aa-logprof proposes rules from the log) and reload it with apparmor_parser -r, or put the profile in complain mode (aa-complain) to confirm");
                    break;
                case "selinux":
                    yield return new Explanation(Id,
                        $"SELinux denied {Q(d.Operation ?? "?")}{(d.Object is { } so ? $" on {Q(so)}" : "")} for the process context {Q(d.Subject ?? "?")} on the object context {Q(d.Record.Field("tcontext") ?? "?")} (class {Q(d.Record.Field("tclass") ?? "?")})",
                        "relabel the object (restorecon, chcon) or add a policy rule (audit2allow shows one); setenforce 0 briefly confirms it is SELinux");
                    break;
                default:
                    yield return new Explanation(Id,
                        $"the {d.LsmName} sandbox of pid {ev.Pid}{(d.Subject is { } dom ? $" (domain {Q(dom)})" : "")} blocked {what}",
                        d.Lsm == "landlock" ? "the program restricted itself with Landlock: allow this access in its ruleset (or run it without the sandbox)" : null);
                    break;
            }
        }
    }
}
