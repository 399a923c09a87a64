using Whyfail.Events;
using static Whyfail.Analysis.Explain.Words;
using static Whyfail.Capture.Native.Libc;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// EPIPE from writing to a pipe or FIFO: no process has its read end open any more (the reader closed it or exited —
/// `head` in a shell pipeline), found by scanning every process's descriptors for the same pipe. The process got the
/// error instead of being killed by SIGPIPE because it ignores, blocks or handles SIGPIPE. Works for a writer that has
/// exited too, from the descriptor and signal dispositions captured at the failure.
/// </summary>
public sealed class PipeNoReader : IExplainRule
{
    public string Id => "pipe.no_reader";

    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.EPIPE && ev.Syscall is "write" or "writev" or "pwritev" or "pwritev2" or "splice" or "vmsplice" or "tee" or "sendfile";

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        int fd = SyscallArgs.Int(ev, ev.Syscall switch { "splice" => 2, "tee" => 1, _ => 0 }); // the descriptor written to
        // The descriptor as captured at the failure when the process is gone; the readers are looked for among the
        // processes that run now (a pipe's write end fails with EPIPE only when no read end is open at all).
        if (proc.Fd(fd) is not { } info || !proc.StatFd(fd, out var st) || st.Kind != FileKind.Fifo) yield break;
        var name = info.Target.StartsWith("pipe:", StringComparison.Ordinal) ? $"the pipe {info.Target}" : $"the FIFO {Q(proc.FdTarget(info))}";
        var readers = Readers(info.Target, st).Where(r => r.Pid != proc.Pid || r.Fd != fd).ToList();
        proc.Checked.Add($"the processes that have {name} open for reading ({readers.Count})");
        var sig = SignalDisposition.Of(proc, SIGPIPE);
        var why = sig is null ? "" : $"; pid {proc.Pid} {sig} SIGPIPE, so it got EPIPE instead of being killed";
        if (readers.Count == 0)
            yield return new Explanation(Id,
                $"descriptor {fd} is the write end of {name}, and no process has its read end open any more (the reader closed it or exited){why}",
                "the reader stopped early (e.g. `| head`): treat EPIPE as the end of output, or keep the reader running until the writer is done");
        else
            yield return new Explanation(Id,
                $"descriptor {fd} writes to {name}; now {string.Join(", ", readers.Take(3).Select(r => $"{ProcFs.Who(r.Pid)} fd {r.Fd}"))} {(readers.Count == 1 ? "has" : "have")} it open for reading, so at the time of the call probably no process did{why}",
                null, false);
    }

    // Descriptors of any process open for reading on the same pipe (pipe:[inode]) or FIFO (device and inode).
    private static IEnumerable<(int Pid, int Fd)> Readers(string target, FileStat st)
    {
        bool anon = target.StartsWith("pipe:", StringComparison.Ordinal);
        foreach (var pid in ProcFs.Pids())
            foreach (var (fd, t) in ProcFs.FdLinks(pid))
            {
                if (anon ? t != target : !t.StartsWith('/') || Native.Stat($"/proc/{pid}/fd/{fd}", out var o, follow: true) != 0 || !o.SameFile(st)) continue;
                if (FdInfo.Parse(fd, t, ProcFs.Read($"/proc/{pid}/fdinfo/{fd}")).CanRead) yield return (pid, fd);
            }
    }
}
