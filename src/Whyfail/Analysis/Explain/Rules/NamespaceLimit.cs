using Whyfail.Events;
using static Whyfail.Analysis.Explain.Words;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// ENOSPC from unshare/clone/clone3 creating namespaces: the per-user-namespace limit of each namespace type asked
/// for (/proc/sys/user/max_*_namespaces, read inside the process's user namespace), zero on hardened systems and in
/// sandboxes. Without a zero limit it compares the namespaces of that type the user's processes hold now (probably).
/// </summary>
public sealed class NamespaceLimit : IExplainRule
{
    public string Id => "namespace.limit";

    // CLONE_NEW* flag, the namespace's /proc/PID/ns name, its limit in /proc/sys/user.
    private static readonly (ulong Flag, string Ns, string Limit)[] Types =
    [
        (0x10000000, "user", "max_user_namespaces"), (0x00020000, "mnt", "max_mnt_namespaces"),
        (0x20000000, "pid", "max_pid_namespaces"), (0x40000000, "net", "max_net_namespaces"),
        (0x04000000, "uts", "max_uts_namespaces"), (0x08000000, "ipc", "max_ipc_namespaces"),
        (0x02000000, "cgroup", "max_cgroup_namespaces"), (0x00000080, "time", "max_time_namespaces"),
    ];

    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.ENOSPC && ev.Syscall is "unshare" or "clone" or "clone3";

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        ulong? flags = ev.Syscall == "clone3"
            ? ev.Capture(0)?.Data is { Length: >= 8 } d ? BitConverter.ToUInt64(d, 0) : null
            : ev.Args[0];
        if (flags is not { } f) yield break;
        if (!proc.Alive) { proc.NoteLost("its user namespace"); yield break; }
        bool otherNs = UserNamespaces.IsOther(proc.Pid);
        var where = otherNs ? $"pid {proc.Pid}'s user namespace {UserNamespaces.Of(proc.Pid)}" : "the initial user namespace";
        uint euid = proc.Creds.Euid;
        foreach (var t in Types.Where(t => (f & t.Flag) != 0))
        {
            long? max = otherNs ? UserNamespaces.Limit(proc.Pid, t.Limit) : ProcFs.ReadLong($"/proc/sys/user/{t.Limit}");
            proc.Checked.Add($"user.{t.Limit} in {where} ({max?.ToString() ?? "unreadable"})");
            if (max is null) continue;
            var fix = $"raise user.{t.Limit} ({(otherNs ? $"inside that namespace, as its root: echo N > /proc/sys/user/{t.Limit}" : $"sysctl -w user.{t.Limit}=…")})";
            if (max == 0)
            {
                yield return new Explanation(Id, $"user.{t.Limit} is 0 in {where}, so no new {t.Ns} namespace can be created there", fix);
                continue;
            }
            int held = ProcFs.Pids().Where(p => ProcFs.Uids(p) is { Length: >= 2 } u && u[1] == euid)
                .Select(p => Native.ReadLink($"/proc/{p}/ns/{t.Ns}")).Where(l => l is not null).Distinct().Count();
            if (held >= max)
                yield return new Explanation(Id,
                    $"processes of {proc.DescribeUser(euid)} hold {N(held)} {t.Ns} namespaces and user.{t.Limit} in {where} is {N(max.Value)}; the limit was probably reached", fix, false);
        }
    }
}
