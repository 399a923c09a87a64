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
                case "landlock":
                    yield return Landlock(ev.Pid, d);
                    break;
                default:
                    yield return new Explanation(Id,
                        $"the {d.LsmName} sandbox of pid {ev.Pid}{(d.Subject is { } dom ? $" (domain {Q(dom)})" : "")} blocked {what}",
                        null);
                    break;
            }
        }
    }

    /// <summary>Landlock's denials that no rule can grant: what the domain refuses to every process inside it.</summary>
    private static readonly Dictionary<string, string> Ungrantable = new(StringComparer.Ordinal)
    {
        ["ptrace"] = "a sandboxed process may only trace processes in its own domain or domains nested in it",
        ["fs.change_topology"] = "a sandboxed process may not mount, unmount or pivot_root (change the file system topology)",
        ["scope.signal"] = "the domain is scoped for signals (LANDLOCK_SCOPE_SIGNAL): it may only signal processes inside it",
        ["scope.abstract_unix_socket"] = "the domain is scoped for abstract unix sockets (LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET): it may only connect to those created inside it",
    };

    // Who is sandboxed by whom comes from the domain's LANDLOCK_DOMAIN record: the creator's pid (its thread group)
    // and executable. A process in a domain it did not create got it by inheritance (fork, clone, exec).
    private Explanation Landlock(int pid, LsmEvidence d)
    {
        var id = d.Subject ?? "?";
        var blockers = d.Blockers.Count > 0 ? string.Join(" and ", d.Blockers) : "the access";
        var on = d.Object is { } o ? $" on {Q(o)}" : "";
        var dom = d.Domain;
        var exe = dom?.CreatorExe is { } e ? $" ({Q(e)})" : "";
        string who = dom is null
            ? $"the Landlock domain {id} that pid {pid} runs in (its creator is unknown: the domain's first denial was logged before whyfail listened)"
            : dom.CreatorPid == pid
                ? $"pid {pid}{exe} sandboxed itself with Landlock (domain {id}) and"
                : $"pid {pid} runs in the Landlock domain {id}, created by pid {dom.CreatorPid}{exe} and inherited from it, and";
        var fixed_ = d.Blockers.Where(Ungrantable.ContainsKey).Select(b => Ungrantable[b]).ToList();
        if (fixed_.Count > 0)
            return new Explanation(Id, $"{who} {(dom is null ? "refuses" : "it refuses")} {blockers}{on}: {string.Join("; ", fixed_)}",
                "no Landlock rule grants this: do it outside the sandbox, or sandbox the program without that restriction");
        var text = $"{who} {(dom is null ? "does" : "its rules do")} not allow {blockers}{on}";
        var program = dom?.CreatorExe is { } prog ? $"the ruleset {Q(prog)} builds" : "the sandbox's ruleset";
        var rule = d.Blockers.All(b => b.StartsWith("net.", StringComparison.Ordinal))
            ? $"a LANDLOCK_RULE_NET_PORT rule granting {blockers} for {((d.Record.Field("src") ?? d.Record.Field("dest")) is { } port ? "port " + port : "that port")}"
            : $"a LANDLOCK_RULE_PATH_BENEATH rule granting {blockers} on {(d.Object is { } path ? Q(path) : "the file")} or a directory above it";
        return new Explanation(Id, text,
            $"add {rule} to {program} before landlock_restrict_self (a domain allows only what its rules grant, for every right its ruleset handles), or run the program without the sandbox");
    }
}
