using System.Text.RegularExpressions;
using Whyfail.Events;
using static Whyfail.Analysis.Explain.Words;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// EACCES on another process's private /proc entries (fd, fdinfo, root, cwd, exe, environ, mem, ns/…): the kernel
/// lets a caller see them only with ptrace read access (ptrace_may_access, PTRACE_MODE_READ_FSCREDS): the
/// caller's fs uid and fs gid equal all of the target's ids, and the target is dumpable, or the caller has
/// CAP_SYS_PTRACE. When the credentials allow it, a security module said no (Landlock's scoping, AppArmor).
/// </summary>
public sealed partial class ProcPrivateEntry : IExplainRule
{
    public string Id => "proc.ptrace_access";

    [GeneratedRegex(@"^/proc/(\d+)(?:/task/\d+)?/(fd|fdinfo|root|cwd|exe|environ|mem|auxv|stack|syscall|personality|map_files|ns|timers|io|pagemap)(?:/.*)?$")]
    private static partial Regex PrivateEntry();

    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.EACCES && SyscallArgs.Paths(ev).Any(p => PrivateEntry().IsMatch(p.Path));

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        foreach (var pa in SyscallArgs.Paths(ev))
        {
            var m = PrivateEntry().Match(pa.Path);
            if (!m.Success || !int.TryParse(m.Groups[1].Value, out int target) || target == ev.Pid) continue;
            var tu = ProcFs.Uids(target);
            var tg = ProcFs.Gids(target);
            if (tu is not { Length: >= 3 } || tg is not { Length: >= 3 })
            {
                proc.Checked.Add($"pid {target} (gone now)");
                continue;
            }
            var c = proc.Creds;
            string who = ProcFs.Who(target);
            string entry = $"{Q(pa.Path)} ({m.Groups[2].Value} of {who})";
            bool cap = c.HasCap(Cap.SYS_PTRACE);
            proc.Checked.Add($"ptrace read access of pid {ev.Pid} to {who}: ids, dumpable, CAP_SYS_PTRACE");
            bool sameIds = tu.Take(3).All(u => u == c.Fsuid) && tg.Take(3).All(g => g == c.Fsgid);
            if (!cap && !sameIds)
            {
                yield return new Explanation(Id,
                    $"{entry} is private to processes that may trace it: {who} runs with uids {tu[0]}/{tu[1]}/{tu[2]} and gids {tg[0]}/{tg[1]}/{tg[2]} (real/effective/saved), pid {ev.Pid} with fs uid {c.Fsuid} and fs gid {c.Fsgid}, and without CAP_SYS_PTRACE",
                    tu[1] == 0 ? "read it as root" : $"read it as {proc.DescribeUser(tu[1])} or as root");
                continue;
            }
            // The entries of a process that is not dumpable belong to root (task_dump_owner; the directory itself keeps its uid).
            if (!cap && tu[1] != 0 && Native.Stat($"/proc/{target}/status", out var st, true) == 0 && st.Uid == 0)
            {
                yield return new Explanation(Id,
                    $"{entry} is private to processes that may trace it, and {who} is not dumpable (its /proc entries belong to root although it runs as uid {tu[1]}: it changed ids, ran a set-uid program or called prctl(PR_SET_DUMPABLE, 0)); only CAP_SYS_PTRACE reads such a process's entries",
                    "read it as root", Certain: false);
                continue;
            }
            string lsms = ProcFs.Read("/sys/kernel/security/lsm")?.Trim() ?? "";
            yield return new Explanation(Id,
                $"{entry} is private to processes that may trace it, and pid {ev.Pid} {(cap ? "has CAP_SYS_PTRACE" : "has the same ids")}, so a security module probably refused it" +
                (lsms.Length > 0 ? $" (active: {lsms})" : "") +
                (lsms.Contains("landlock") ? "; Landlock keeps a sandboxed process from inspecting processes outside its sandbox" : ""),
                null, Certain: false);
        }
    }
}
