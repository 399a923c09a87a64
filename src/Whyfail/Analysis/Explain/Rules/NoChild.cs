using System.Globalization;
using Whyfail.Events;
using static Whyfail.Capture.Native.Libc;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// ECHILD from wait4/waitid: nothing the caller may wait for matched. For one pid: it is not the caller's child
/// (its parent is named) or it is gone (reaped already). For any child or a process group: the caller's children
/// now, and whether it ignores SIGCHLD (then the kernel reaps every child as it exits, and waiting only ever
/// ends in ECHILD). Polling with WNOHANG until ECHILD is how shells and supervisors learn they have no
/// children left: the sentence says so, without a fix.
/// </summary>
public sealed class NoChild : IExplainRule
{
    public string Id => "process.no_child";

    private const string PollNote = " (with WNOHANG: this is how a program polling its children learns that none is left)";

    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.ECHILD && ev.Syscall is "wait4" or "waitid";

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        // What was waited for: wait4(pid, status, options, rusage); waitid(idtype, id, info, options, rusage).
        int idtype, id, options;
        if (ev.Syscall == "wait4")
        {
            int pid = SyscallArgs.Int(ev, 0);
            (idtype, id) = pid > 0 ? (P_PID, pid) : pid == -1 ? (P_ALL, 0) : (P_PGID, pid == 0 ? 0 : -pid);
            options = SyscallArgs.Int(ev, 2);
        }
        else
        {
            (idtype, id, options) = (SyscallArgs.Int(ev, 0), SyscallArgs.Int(ev, 1), SyscallArgs.Int(ev, 3));
            if (idtype == P_PIDFD)
            {
                proc.Checked.Add("nothing for a pidfd wait (the pidfd's process is not the caller's child)");
                yield break;
            }
        }
        bool poll = (options & WNOHANG) != 0;
        string ignores = SignalDisposition.Of(proc, SIGCHLD) == "ignores"
            ? $"; pid {ev.Pid} ignores SIGCHLD, so the kernel reaps each of its children as soon as it exits and no wait ever collects one"
            : "";

        if (idtype == P_PID)
        {
            int ppid = Ppid(id);
            proc.Checked.Add($"the parent of pid {id}");
            if (ppid >= 0 && ppid != ev.Pid)
            {
                yield return new Explanation(Id,
                    $"{ProcFs.Who(id)} is not a child of pid {ev.Pid}: {(ppid == 0 ? "it has no parent (the first process, or a kernel thread)" : $"its parent is {ProcFs.Who(ppid)}")}; only the parent can wait for a process",
                    "to wait for a process that is not your child, poll a pidfd (pidfd_open, then poll for readability) or watch its /proc entry");
            }
            else if (ppid < 0)
            {
                yield return new Explanation(Id,
                    $"there is no process {id} now: it probably had already exited and been reaped (by an earlier wait{(ignores.Length > 0 ? ", or automatically" : "")}), or was never a child of pid {ev.Pid}{ignores}",
                    ignores.Length > 0 ? "restore the default SIGCHLD disposition (signal(SIGCHLD, SIG_DFL)) before waiting for children" : null,
                    Certain: false);
            }
            yield break;
        }

        var children = proc.Alive ? Children(ev.Pid) : null;
        string what = idtype == P_ALL ? "any child" : id == 0 ? "a child in its own process group" : $"a child in process group {id}";
        string now = children == null ? ""
            : children.Count == 0 ? $"; it has no child processes now"
            : $"; its children now are {string.Join(", ", children.Take(5).Select(c => $"{ProcFs.Who(c.Pid)} in process group {c.Pgrp}"))}{(children.Count > 5 ? $" and {children.Count - 5} more" : "")}";
        if (idtype == P_ALL && children is { Count: > 0 })
        {
            // Children exist now: created after the call, or clone()d without SIGCHLD (waited for only with __WALL/__WCLONE).
            yield return new Explanation(Id,
                $"{ev.Syscall} waited for any child of pid {ev.Pid}, and at that moment it had none that could be waited for; it has {Words.Plural(children.Count, "child", "children")} now, " +
                "probably created since (a child whose exit signal is not SIGCHLD is waited for only with __WALL or __WCLONE)" +
                (poll ? PollNote : ""),
                null, Certain: false);
            yield break;
        }
        yield return new Explanation(Id,
            $"{ev.Syscall} waited for {what} of pid {ev.Pid}, and it had none left that had not been waited for{now}{ignores}" +
            (poll && ignores.Length == 0 ? PollNote : ""),
            ignores.Length > 0 ? "restore the default SIGCHLD disposition (signal(SIGCHLD, SIG_DFL)) before creating children that are to be waited for" : null,
            Certain: children != null || ignores.Length > 0 || poll,
            FromErrno: children == null); // gone: "none left" is what ECHILD means
    }

    /// <summary>The parent pid of a process (from /proc/PID/stat), or -1 when it does not exist.</summary>
    private static int Ppid(int pid) => ProcFs.StatFields(pid) is { Length: > 1 } f && int.TryParse(f[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int p) ? p : -1;

    private static List<(int Pid, int Pgrp)> Children(int parent)
    {
        var list = new List<(int, int)>();
        foreach (int pid in ProcFs.Pids())
            if (ProcFs.StatFields(pid) is { Length: > 2 } f && f[1] == parent.ToString(CultureInfo.InvariantCulture))
                list.Add((pid, int.Parse(f[2], CultureInfo.InvariantCulture)));
        return list;
    }
}
