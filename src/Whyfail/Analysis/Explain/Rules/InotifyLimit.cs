using Whyfail.Events;
using static Whyfail.Analysis.Explain.Words;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// ENOSPC from inotify_add_watch (fs.inotify.max_user_watches) and EMFILE from inotify_init
/// (fs.inotify.max_user_instances): how many the user has, and which processes hold the most. Inside a user
/// namespace the namespace's own limit (/proc/sys/user/max_inotify_*, read from inside) counts too.
/// </summary>
public sealed class InotifyLimit : IExplainRule
{
    public string Id => "inotify.limit";

    public bool AppliesTo(SyscallEvent ev) =>
        (ev.Errno == Errnos.ENOSPC && ev.Syscall == "inotify_add_watch") || (ev.Errno == Errnos.EMFILE && ev.Syscall is "inotify_init" or "inotify_init1");

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        bool watches = ev.Syscall == "inotify_add_watch";
        var sysctl = watches ? "max_user_watches" : "max_user_instances";
        var nsSysctl = watches ? "max_inotify_watches" : "max_inotify_instances";
        var what = watches ? "inotify watches" : "inotify instances";
        uint euid = proc.Creds.Euid;
        // Inside another user namespace, that namespace's limit and the user's count in it.
        string? ns = proc.Alive && UserNamespaces.IsOther(proc.Pid) ? UserNamespaces.Of(proc.Pid) : null;
        long? max = ns is null ? ProcFs.ReadLong($"/proc/sys/fs/inotify/{sysctl}") : UserNamespaces.Limit(proc.Pid, nsSysctl);
        var per = Count(euid, watches, ns);
        long total = per.Values.Sum();
        var limitName = ns is null ? $"fs.inotify.{sysctl}" : $"the limit of pid {proc.Pid}'s user namespace {ns} (/proc/sys/user/{nsSysctl} inside it)";
        proc.Checked.Add($"{limitName} ({max}) against the {what} of uid {euid}{(ns is null ? "" : " in that namespace")} ({total})");
        if (max is null) yield break;
        var top = string.Join(", ", per.OrderByDescending(p => p.Value).Take(3).Select(p => $"{ProcFs.Who(p.Key)}: {p.Value}"));
        var who = $"{proc.DescribeUser(euid)}{(ns is null ? "" : $" (in user namespace {ns})")}";
        var fix = ns is null
            ? $"raise it (sysctl -w fs.inotify.{sysctl}={max * 4}), or stop the process holding the most"
            : $"raise it inside the namespace (as its root: echo {Math.Max(max.Value * 4, 128)} > /proc/sys/user/{nsSysctl}), or close unused inotify {(watches ? "watches" : "instances")}";
        if (total < max)
        {
            yield return new Explanation(Id,
                $"{who} has {N(total)} {what} now and {limitName} is {N(max.Value)}{(top.Length > 0 ? $" (most: {top})" : "")}; the limit was probably reached at the time of the call, or {(ns is null ? "a user namespace has a lower limit (/proc/sys/user/" + nsSysctl + ")" : "a parent namespace's limit was reached")}",
                fix, false);
            yield break;
        }
        yield return new Explanation(Id, $"{who} has {N(total)} {what} and {limitName} is {N(max.Value)} (most: {top})", fix);
    }

    // inotify instances (or watches) per process of this euid, only in the given user namespace when one is given.
    private static Dictionary<int, int> Count(uint euid, bool watches, string? ns)
    {
        var per = new Dictionary<int, int>();
        foreach (var pid in ProcFs.Pids())
        {
            if (ProcFs.Uids(pid) is not { Length: >= 2 } u || u[1] != euid) continue;
            if (ns is not null && UserNamespaces.Of(pid) != ns) continue;
            foreach (var (fd, target) in ProcFs.FdLinks(pid))
            {
                if (target != "anon_inode:inotify") continue;
                int n = watches ? (ProcFs.Read($"/proc/{pid}/fdinfo/{fd}") ?? "").Split('\n').Count(l => l.StartsWith("inotify wd:", StringComparison.Ordinal)) : 1;
                per[pid] = per.GetValueOrDefault(pid) + n;
            }
        }
        return per;
    }
}
