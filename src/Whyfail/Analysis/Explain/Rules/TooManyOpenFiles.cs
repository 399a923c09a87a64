using Whyfail.Events;
using static Whyfail.Analysis.Explain.Words;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// EMFILE: the process's RLIMIT_NOFILE soft limit against the descriptors it has open (and what most of them are),
/// or for inotify_init the per-user inotify instance limit.
/// </summary>
public sealed class TooManyOpenFiles : IExplainRule
{
    public string Id => "fd.limit";

    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.EMFILE;

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        var limit = proc.Limit("Max open files");
        if (limit is null) { proc.Checked.Add("RLIMIT_NOFILE (not captured, and /proc/PID/limits could not be read)"); yield break; }
        // The count at the failure (kernel side, for EMFILE) is the one that matters; the live list adds what they are.
        bool atFailure = proc.Context?.OpenFds is not null;
        var fds = proc.Alive ? proc.FdNumbers() : [];
        if (proc.OpenFdCount() is not { } count) { proc.Checked.Add($"RLIMIT_NOFILE {ResourceLimit.Show(limit.Soft)} (the open descriptors could not be counted)"); yield break; }
        proc.Checked.Add($"{count} open descriptors against RLIMIT_NOFILE {ResourceLimit.Show(limit.Soft)}");
        if (ev.Syscall is "inotify_init" or "inotify_init1" or "fanotify_init" && (limit.Soft is null || (ulong)count < limit.Soft))
            yield break; // inotify.limit explains the per-user instance limit
        var summary = fds.Count >= count - 2 ? Summary(proc, fds) : "";
        var has = atFailure ? "had" : "has";
        if (limit.Soft is { } soft && (ulong)count >= soft)
            yield return new Explanation(Id,
                $"pid {proc.Pid} {has} {Plural(count, "descriptor", "descriptors")} open and its RLIMIT_NOFILE soft limit {(atFailure ? "was" : "is")} {soft} (hard limit {ResourceLimit.Show(limit.Hard)}), so no descriptor number below {soft} {(atFailure ? "was" : "is")} free{summary}",
                limit.Hard is { } h && h > soft
                    ? $"raise the soft limit (ulimit -n {h}, or LimitNOFILE= in a systemd unit), or close descriptors that are no longer needed (a leak?)"
                    : "close descriptors that are no longer needed (a leak?); the hard limit can only be raised by root (LimitNOFILE=, limits.conf)");
        else if (limit.Soft is { } soft2 && ev.Syscall is "dup2" or "dup3" or "fcntl" &&
                 (fds.Count > 0 && (ulong)fds[^1] >= soft2 - 1 || (ulong)SyscallArgs.Int(ev, ev.Syscall == "fcntl" ? 2 : 1) >= soft2))
            yield return new Explanation(Id, $"the requested descriptor number is at or above the RLIMIT_NOFILE soft limit {soft2}");
        else if (atFailure)
            yield return new Explanation(Id,
                $"pid {proc.Pid} had {Plural(count, "descriptor", "descriptors")} open at the failure, below its RLIMIT_NOFILE soft limit {ResourceLimit.Show(limit.Soft)}; the lowest free number was taken by a descriptor opened by another thread at the same moment, or the table could not grow",
                null, false);
        else
            yield return new Explanation(Id,
                $"pid {proc.Pid} has {Plural(count, "descriptor", "descriptors")} open now, below its RLIMIT_NOFILE soft limit {ResourceLimit.Show(limit.Soft)}; it probably had more open at the time of the call (they were closed since){summary}",
                $"watch the count: ls /proc/{proc.Pid}/fd | wc -l", false);
    }

    /// <summary>"; most are sockets (950), /var/log/app.log (12), pipes (2)".</summary>
    internal static string Summary(ProcessView proc, IReadOnlyList<int> fds)
    {
        if (fds.Count < 8) return "";
        var groups = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (_, target) in ProcFs.FdLinks(proc.Pid, $"{proc.TaskDir}/fd"))
        {
            var key = target.StartsWith("socket:", StringComparison.Ordinal) ? "sockets"
                : target.StartsWith("pipe:", StringComparison.Ordinal) ? "pipes"
                : target.StartsWith("anon_inode:", StringComparison.Ordinal) ? target[11..].Trim('[', ']') + " descriptors"
                : Q(proc.InOwnRoot(target));
            groups[key] = groups.GetValueOrDefault(key) + 1;
        }
        var top = groups.OrderByDescending(g => g.Value).ThenBy(g => g.Key, StringComparer.Ordinal).Take(3).Select(g => $"{g.Key} ({g.Value})");
        return $"; the most common are {string.Join(", ", top)}";
    }
}
