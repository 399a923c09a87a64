using System.Globalization;
using Whyfail.Events;
using static Whyfail.Analysis.Explain.Words;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// EAGAIN from fork/vfork/clone/clone3: RLIMIT_NPROC against the tasks the user runs, the pids cgroup limit
/// (pids.max against pids.current, up the hierarchy), or the system-wide kernel.threads-max / pid_max.
/// </summary>
public sealed class ProcessLimit : IExplainRule
{
    public string Id => "proc.limit";

    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.EAGAIN && ev.Syscall is "fork" or "vfork" or "clone" or "clone3";

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        if (!proc.Alive && proc.Context is null) { proc.Checked.Add("nothing: the process is gone, so its limits and cgroup cannot be read"); yield break; }
        var c = proc.Creds;
        var (userTasks, allTasks) = CountTasks(c.Uid);
        var lim = proc.Limit("Max processes");
        bool exempt = c.Uid == 0 || c.HasCap(Cap.SYS_ADMIN) || c.HasCap(Cap.SYS_RESOURCE);
        proc.Checked.Add($"RLIMIT_NPROC {ResourceLimit.Show(lim?.Soft)} against {userTasks} tasks of uid {c.Uid}");
        if (lim?.Soft is { } soft && !exempt && (ulong)userTasks >= soft)
        {
            yield return new Explanation(Id,
                $"{proc.DescribeUser(c.Uid)} runs {Plural(userTasks, "task", "tasks")} (processes and threads, counted by real uid) and pid {proc.Pid}'s RLIMIT_NPROC soft limit is {soft} (hard {ResourceLimit.Show(lim.Hard)}), so no new process or thread may be created",
                lim.Hard is { } h && h > soft ? $"raise it (ulimit -u {h}, LimitNPROC= in a systemd unit) or end some of that user's processes" : "end some of that user's processes (a fork loop or thread leak?), or have root raise the hard limit");
        }

        foreach (var (dir, max, current, events) in PidsCgroups(proc))
        {
            proc.Checked.Add($"pids cgroup {Q(dir)} ({current} of {max})");
            if (max is null || current < max) continue;
            yield return new Explanation(Id,
                $"pid {proc.Pid}'s pids cgroup {Q(dir)} allows at most {Plural(max.Value, "task", "tasks")} (pids.max) and has {current} (pids.current){(events > 0 ? $"; {Plural(events, "fork has", "forks have")} been refused there (pids.events)" : "")}",
                $"raise pids.max of that cgroup (TasksMax= for a systemd unit), or end some of its tasks");
            break;
        }

        var threadsMax = ProcFs.ReadLong("/proc/sys/kernel/threads-max");
        proc.Checked.Add($"kernel.threads-max {threadsMax} against {allTasks} tasks");
        if (threadsMax is { } tm && allTasks >= tm)
        {
            yield return new Explanation(Id, $"the system runs {N(allTasks)} tasks and kernel.threads-max is {N(tm)}", "raise kernel.threads-max or end processes");
        }
    }

    // Tasks (threads) per real uid, and in total, from /proc/*/status.
    private static (int User, long All) CountTasks(uint uid)
    {
        int user = 0;
        long all = 0;
        foreach (var pid in ProcFs.Pids())
        {
            var st = ProcFs.Read($"/proc/{pid}/status");
            if (st is null) continue;
            int threads = 1;
            uint real = uint.MaxValue;
            foreach (var line in st.Split('\n'))
            {
                if (line.StartsWith("Threads:", StringComparison.Ordinal)) int.TryParse(line[8..].Trim(), out threads);
                else if (line.StartsWith("Uid:", StringComparison.Ordinal))
                    uint.TryParse(line[4..].Split(['\t', ' '], StringSplitOptions.RemoveEmptyEntries)[0], out real);
            }
            all += threads;
            if (real == uid) user += threads;
        }
        return (user, all);
    }

    /// <summary>The pids cgroup of the process and its ancestors: (path, pids.max or null for "max", pids.current, refused forks).</summary>
    internal static IEnumerable<(string Dir, long? Max, long Current, long Events)> PidsCgroups(ProcessView proc)
    {
        if (!proc.Alive) { proc.NoteLost("its pids cgroup"); yield break; }
        var lines = ProcFs.Read($"{proc.ProcDir}/cgroup")?.Split('\n') ?? [];
        string? rel = null, mount = null;
        foreach (var line in lines)
        {
            var f = line.Split(':', 3);
            if (f.Length != 3) continue;
            if (f[1].Split(',').Contains("pids")) { rel = f[2]; mount = "/sys/fs/cgroup/pids"; break; }
            if (f[0] == "0" && f[1] == "" && File.Exists("/sys/fs/cgroup/cgroup.controllers")) { rel = f[2]; mount = "/sys/fs/cgroup"; }
        }
        if (rel is null || mount is null) yield break;
        var path = rel.TrimEnd('/');
        while (true)
        {
            var dir = mount + path;
            var maxText = ProcFs.Read($"{dir}/pids.max")?.Trim();
            var current = ProcFs.ReadLong($"{dir}/pids.current");
            if (maxText != null && current != null)
            {
                long events = 0;
                var ev = ProcFs.Read($"{dir}/pids.events");
                if (ev != null)
                    foreach (var l in ev.Split('\n'))
                        if (l.StartsWith("max ", StringComparison.Ordinal)) long.TryParse(l[4..], out events);
                yield return (dir, maxText == "max" ? null : long.Parse(maxText, CultureInfo.InvariantCulture), current.Value, events);
            }
            if (path.Length == 0) break;
            int slash = path.LastIndexOf('/');
            path = slash <= 0 ? "" : path[..slash];
        }
    }
}
