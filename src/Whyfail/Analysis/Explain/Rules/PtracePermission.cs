using Whyfail.Events;
using static Whyfail.Capture.Native.Libc;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// EPERM from ptrace(PTRACE_ATTACH/PTRACE_SEIZE) or process_vm_readv/writev: the target is already traced, runs
/// with other ids, is not dumpable, or Yama's ptrace_scope forbids it — checked in the kernel's order.
/// </summary>
public sealed class PtracePermission : IExplainRule
{
    public string Id => "ptrace.permission";


    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.EPERM &&
        ((ev.Syscall == "ptrace" && SyscallArgs.Int(ev, 0) is PTRACE_ATTACH or PTRACE_SEIZE) || ev.Syscall is "process_vm_readv" or "process_vm_writev");

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        bool attach = ev.Syscall == "ptrace";
        int target = SyscallArgs.Int(ev, attach ? 1 : 0);
        var status = ProcFs.Read($"/proc/{target}/status");
        if (status is null) { proc.Checked.Add($"pid {target} (gone now)"); yield break; }
        var f = status.Split('\n').Select(l => l.Split(':', 2)).Where(p => p.Length == 2).GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.First()[1].Trim());
        uint[] Ids(string k) => f.TryGetValue(k, out var v) ? v.Split(['\t', ' '], StringSplitOptions.RemoveEmptyEntries).Select(uint.Parse).ToArray() : [];
        var tu = Ids("Uid");
        var tg = Ids("Gid");
        var c = proc.Creds;
        bool cap = c.HasCap(Cap.SYS_PTRACE);
        var who = ProcFs.Who(target);
        proc.Checked.Add($"{who}: kernel thread, same process, ids, dumpable, tracer, Yama ptrace_scope");

        if (f.GetValueOrDefault("Kthread") == "1" || target == 2 || f.GetValueOrDefault("PPid") == "2")
        {
            yield return new Explanation(Id, $"{who} is a kernel thread, which cannot be traced");
            yield break;
        }
        if (f.GetValueOrDefault("Tgid") == proc.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture))
        {
            yield return new Explanation(Id, $"{who} is a thread of the calling process itself, which cannot trace itself");
            yield break;
        }
        // __ptrace_may_access: the caller's real uid/gid must equal all of the target's real, effective and saved ids.
        if (tu.Length >= 3 && tg.Length >= 3 && !cap && !(tu[0] == c.Uid && tu[1] == c.Uid && tu[2] == c.Uid && tg[0] == c.Gid && tg[1] == c.Gid && tg[2] == c.Gid))
        {
            yield return new Explanation(Id,
                $"{who} runs with uids {tu[0]}/{tu[1]}/{tu[2]} and gids {tg[0]}/{tg[1]}/{tg[2]} (real/effective/saved), and pid {proc.Pid} (real uid {c.Uid}, gid {c.Gid}) lacks CAP_SYS_PTRACE; tracing needs all of the target's ids to equal the tracer's real uid and gid",
                tu[0] == 0 ? "trace it as root" : $"trace it as {proc.DescribeUser(tu[0])} or as root");
            yield break;
        }
        // The /proc entries of a non-dumpable process belong to root (the directory itself keeps its uid).
        if (!cap && tu.Length >= 2 && tu[1] != 0 && Native.Stat($"/proc/{target}/status", out var pst, true) == 0 && pst.Uid == 0)
        {
            yield return new Explanation(Id,
                $"{who} is probably not dumpable (its /proc entries belong to root although it runs as uid {tu[1]}: it changed ids, ran a set-uid program, or called prctl(PR_SET_DUMPABLE, 0)), and only CAP_SYS_PTRACE may trace such a process",
                "trace it as root", false);
            yield break;
        }
        if (attach && f.TryGetValue("TracerPid", out var tp) && tp != "0")
        {
            yield return new Explanation(Id, $"{who} is already being traced by {ProcFs.Who(int.Parse(tp))}; a process can have only one tracer", $"detach the other tracer (pid {tp}) first");
            yield break;
        }
        var scope = ProcFs.ReadLong("/proc/sys/kernel/yama/ptrace_scope");
        if (scope is null) yield break;
        if (scope == 3)
            yield return new Explanation(Id, "Yama's kernel.yama.ptrace_scope is 3: no process may attach with ptrace at all (until reboot)");
        else if (scope == 2 && !cap)
            yield return new Explanation(Id, $"Yama's kernel.yama.ptrace_scope is 2: only processes with CAP_SYS_PTRACE may attach, and pid {proc.Pid} does not have it", "trace as root, or lower kernel.yama.ptrace_scope");
        else if (scope == 1 && !cap && !IsAncestor(proc.Pid, target))
            yield return new Explanation(Id,
                $"Yama's kernel.yama.ptrace_scope is 1: a process may only attach to its own descendants (or to a process that allowed it with prctl(PR_SET_PTRACER)), and {who} is not a descendant of pid {proc.Pid}",
                "start the program under the tracer, run the tracer as root, or set kernel.yama.ptrace_scope=0");
    }

    private static bool IsAncestor(int ancestor, int pid)
    {
        for (int i = 0; i < 1000 && pid > 1; i++)
        {
            var st = ProcFs.Read($"/proc/{pid}/status");
            var line = st?.Split('\n').FirstOrDefault(l => l.StartsWith("PPid:", StringComparison.Ordinal));
            if (line is null || !int.TryParse(line[5..].Trim(), out pid)) return false;
            if (pid == ancestor) return true;
        }
        return false;
    }
}
