using Whyfail.Events;
using static Whyfail.Analysis.Explain.Words;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// ENOSPC from inotify_add_watch (fs.inotify.max_user_watches) and EMFILE from inotify_init
/// (fs.inotify.max_user_instances): how many the user has, and which processes hold the most.
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
        long? max = ProcFs.ReadLong($"/proc/sys/fs/inotify/{sysctl}");
        uint euid = proc.Creds.Euid;
        var per = new Dictionary<int, int>();
        foreach (var pid in ProcFs.Pids())
        {
            if (ProcFs.Uids(pid) is not { Length: >= 2 } u || u[1] != euid) continue;
            foreach (var (fd, target) in ProcFs.FdLinks(pid))
            {
                if (target != "anon_inode:inotify") continue;
                int n = watches ? (ProcFs.Read($"/proc/{pid}/fdinfo/{fd}") ?? "").Split('\n').Count(l => l.StartsWith("inotify wd:", StringComparison.Ordinal)) : 1;
                per[pid] = per.GetValueOrDefault(pid) + n;
            }
        }
        long total = per.Values.Sum();
        var what = watches ? "inotify watches" : "inotify instances";
        proc.Checked.Add($"fs.inotify.{sysctl} ({max}) against the {what} of uid {euid} ({total})");
        if (max is null) yield break;
        var top = string.Join(", ", per.OrderByDescending(p => p.Value).Take(3).Select(p => $"{ProcFs.Who(p.Key)}: {p.Value}"));
        bool full = total >= max;
        if (proc.OtherNetNamespace || !full)
        {
            yield return new Explanation(Id,
                $"{proc.DescribeUser(euid)} has {N(total)} {what} now and fs.inotify.{sysctl} is {N(max.Value)}{(top.Length > 0 ? $" (most: {top})" : "")}; the limit was probably reached at the time of the call, or a user namespace has a lower limit (/proc/sys/user/max_inotify_{(watches ? "watches" : "instances")})",
                $"raise it: sysctl -w fs.inotify.{sysctl}=…", false);
            yield break;
        }
        yield return new Explanation(Id,
            $"{proc.DescribeUser(euid)} has {N(total)} {what} and fs.inotify.{sysctl} is {N(max.Value)} (most: {top})",
            $"raise it (sysctl -w fs.inotify.{sysctl}={max * 4}), or stop the process holding the most");
    }
}
