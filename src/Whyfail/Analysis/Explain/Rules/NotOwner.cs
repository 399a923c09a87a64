using Whyfail.Events;
using static Whyfail.Analysis.Explain.Words;
using static Whyfail.Capture.Native.Libc;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// EPERM from chmod/chown/utimes and their fd/at variants: only the owner (or CAP_FOWNER) may change the mode or
/// set times, only CAP_CHOWN may change the owner, and the group only to one of the caller's groups.
/// </summary>
public sealed class NotOwner : IExplainRule
{
    public string Id => "file.not_owner";

    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.EPERM && Kind(ev.Syscall) != 0;

    // 1 mode, 2 owner/group, 3 times
    private static int Kind(string sc) => sc switch
    {
        "chmod" or "fchmod" or "fchmodat" or "fchmodat2" => 1,
        "chown" or "fchown" or "lchown" or "fchownat" => 2,
        "utime" or "utimes" or "utimensat" or "futimesat" => 3,
        _ => 0,
    };

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        string name;
        FileStat st;
        var pa = SyscallArgs.Paths(ev).FirstOrDefault();
        if (pa != null)
        {
            var w = PathRules.Walk(ev, proc, pa);
            if (PathRules.NoteUnwalkable(proc, w) || !w.Ok || w.Target is not { Exists: true } t) yield break;
            (name, st) = (t.Path, t.Stat);
        }
        else
        {
            int fd = SyscallArgs.Int(ev, 0);
            if (proc.Fd(fd) is not { } info || !proc.StatFd(fd, out st)) { proc.Checked.Add($"descriptor {fd} (not open now)"); yield break; }
            name = proc.FdTarget(info);
        }
        var c = proc.Creds;
        var owner = proc.DescribeUser(st.Uid);
        var me = proc.DescribeUser(c.Fsuid);
        proc.Checked.Add($"the owner of {Q(name)} against uid {c.Fsuid} and its capabilities");
        switch (Kind(ev.Syscall))
        {
            case 1:
            case 3 when TimesGiven(ev):
                if (c.Fsuid == st.Uid || c.HasCap(Cap.FOWNER)) yield break;
                yield return new Explanation(Id,
                    $"{Q(name)} is owned by {owner}; only its owner or a process with CAP_FOWNER may {(Kind(ev.Syscall) == 1 ? "change its mode" : "set its times to given values")}, and pid {proc.Pid} runs as {me} without CAP_FOWNER",
                    st.Uid == 0 ? "do it as root" : $"do it as {owner} or as root");
                break;
            case 2:
            {
                int uidArg = ev.Syscall switch { "fchownat" => 2, _ => 1 };
                uint newUid = (uint)SyscallArgs.Int(ev, uidArg), newGid = (uint)SyscallArgs.Int(ev, uidArg + 1);
                if (c.HasCap(Cap.CHOWN)) yield break;
                if (newUid != uint.MaxValue && newUid != st.Uid)
                    yield return new Explanation(Id,
                        $"changing the owner of {Q(name)} (from {owner} to {proc.DescribeUser(newUid)}) needs CAP_CHOWN, which pid {proc.Pid}, running as {me}, does not have; unprivileged users cannot give files away",
                        "do it as root");
                else if (newGid != uint.MaxValue && newGid != st.Gid)
                {
                    var why = c.Fsuid != st.Uid ? $"the file is owned by {owner}, not by {me}" : $"{me} is not a member of {proc.DescribeGroup(newGid)}";
                    yield return new Explanation(Id,
                        $"without CAP_CHOWN a process may change a file's group only on files it owns and only to a group it belongs to; {why}",
                        c.Fsuid != st.Uid ? (st.Uid == 0 ? "do it as root" : $"do it as {owner} or as root") : $"add {me} to {proc.DescribeGroup(newGid)} (then log in again), or do it as root");
                }
                break;
            }
        }
    }

    // utime(path, NULL)/utimensat(…, NULL, …) and UTIME_NOW for both only need write permission; explicit times need ownership.
    private static bool TimesGiven(SyscallEvent ev)
    {
        int arg = ev.Syscall is "utimensat" or "futimesat" ? 2 : 1;
        if (ev.Args[arg] == 0) return false;
        if (ev.Syscall == "utimensat" && ev.Capture(arg)?.Data is { Length: >= 32 } ts)
        {
            return !(BitConverter.ToInt64(ts, 8) == UTIME_NOW && BitConverter.ToInt64(ts, 24) == UTIME_NOW);
        }
        return true;
    }
}
