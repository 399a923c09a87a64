using Whyfail.Events;
using static Whyfail.Analysis.Explain.Words;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>ETXTBSY: executing a file some process has open for writing, or writing a file being executed or used as swap.</summary>
public sealed class TextBusy : IExplainRule
{
    public string Id => "file.text_busy";

    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.ETXTBSY;

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        foreach (var pa in SyscallArgs.Paths(ev))
        {
            var w = PathRules.Walk(ev, proc, pa);
            if (PathRules.NoteUnwalkable(proc, w) || !w.Ok || w.Target is not { Exists: true } t) continue;
            if (pa.Op == PathOp.Exec)
            {
                // The caller's own descriptors, captured at the failure (it may exit, and close them, right after).
                var own = proc.CapturedWritersOf(t.Stat, t.Path);
                if (own.Count > 0)
                {
                    yield return new Explanation(Id,
                        $"{Q(t.Path)} was open for writing by pid {proc.Pid} itself, the process that called {ev.Syscall}: {string.Join("; ", own.Select(d => $"its descriptor {d.Fd} ({d.AccessWords})"))}, open at the failure; a file cannot be executed while any descriptor has it open for writing, the caller's own included (close-on-exec closes descriptors only after this check)",
                        $"close descriptor {own[0].Fd} before executing the file (in a shell: exec {own[0].Fd}>&-), or write the file through a descriptor that is closed first");
                    continue;
                }
                var writers = ProcScan.OpenersOf(t.Stat).Where(u => u.Info is { CanWrite: true }).ToList();
                proc.Checked.Add($"processes with {Q(t.Path)} open for writing");
                if (writers.Count == 0)
                {
                    // The kernel refuses the exec only while a descriptor has the file open for writing; that descriptor is
                    // gone now. It may have been the caller's own (a shell's `exec 3>>FILE`, inherited across fork and exec).
                    // Its own writers are captured at the failure (the first three): none of them was this file.
                    bool captured = proc.Context is { WritersAll: true };
                    var self = captured ? $"; none of pid {proc.Pid}'s own descriptors had it open for writing at the failure"
                        : proc.Alive ? "" : $"; pid {proc.Pid} has exited, so its own descriptors (one of them may have been the writer, inherited or opened before the exec) could not be checked";
                    if (!proc.Alive && !captured) proc.NoteLost("the failing process's own descriptors");
                    yield return new Explanation(Id,
                        $"{Q(t.Path)} was open for writing when execve ran (the kernel refuses to execute a file while any descriptor has it open for writing), but nothing has it open for writing now: the writer closed it or exited since (a copy or build that has just finished){self}",
                        "close the file (or open it with O_CLOEXEC) before executing it, and wait until writers have finished", false);
                    continue;
                }
                yield return new Explanation(Id,
                    $"{Q(t.Path)} is open for writing by {string.Join("; ", writers.Take(3).Select(u => $"{ProcFs.Who(u.Pid)} as descriptor {u.Fd} ({u.Info!.AccessWords})"))}, and a file cannot be executed while it is open for writing",
                    "wait until the writer has finished and closed it (a copy or build still running?)");
            }
            else
            {
                var running = ProcScan.Executing(t.Stat);
                proc.Checked.Add($"processes executing {Q(t.Path)} and active swap files");
                if (running.Count > 0)
                    yield return new Explanation(Id,
                        $"{Q(t.Path)} is the program of running {string.Join(", ", running.Take(3).Select(ProcFs.Who))}, so it cannot be opened for writing",
                        "write a new file and rename it over the old one (install/cp --remove-destination do that)");
                else if (Swapping(t))
                    yield return new Explanation(Id, $"{Q(t.Path)} is an active swap file", $"swapoff {Sh(t.Path)} first");
            }
        }
    }

    private static bool Swapping(PathComponent t)
    {
        var swaps = ProcFs.Read("/proc/swaps");
        if (swaps is null) return false;
        foreach (var line in swaps.Split('\n').Skip(1))
        {
            var name = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
            if (name != null && Native.Stat(MountEntry.Unescape(name), out var st, true) == 0 && st.SameFile(t.Stat)) return true;
        }
        return false;
    }
}
