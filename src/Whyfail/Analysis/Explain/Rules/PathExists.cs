using Whyfail.Events;
using static Whyfail.Analysis.Explain.Words;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>EEXIST from mkdir/mknod/symlink/link/open(O_CREAT|O_EXCL)/rename(RENAME_NOREPLACE): what is already there.</summary>
public sealed class PathExists : IExplainRule
{
    public string Id => "path.exists";

    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.EEXIST && !SyscallArgs.RemovesDirectory(ev) && SyscallArgs.Paths(ev).Count > 0;

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        foreach (var pa in SyscallArgs.Paths(ev))
        {
            bool relevant = pa.Op switch
            {
                PathOp.Create => true,
                PathOp.Open => ((SyscallArgs.OpenFlags(ev) ?? 0) & SyscallArgs.O_CREAT) != 0,
                PathOp.RenameTo => ev.Syscall == "renameat2" && (SyscallArgs.Int(ev, 4) & 1) != 0,
                _ => false,
            };
            if (!relevant) continue;
            var w = PathRules.Walk(ev, proc, pa, follow: false);
            if (PathRules.NoteUnwalkable(proc, w))
            {
                // The errno alone says that something was there; what it was needs the process's view.
                if (!proc.Alive)
                    yield return new Explanation(Id,
                        $"{Q(pa.Path)} already existed when the call ran ({ev.Syscall} fails with EEXIST for nothing else); pid {ev.Pid} is gone, so what it is could not be seen",
                        ev.Syscall is "mkdir" or "mkdirat" ? "if an existing directory is fine, treat EEXIST as success (like mkdir -p)" : "remove it first, or choose another name",
                        FromErrno: true);
                continue;
            }
            proc.Checked.Add($"whether {Q(pa.Path)} exists");
            if (w.Target is not { } t) continue;
            if (!t.Exists)
            {
                yield return new Explanation(Id, $"{Q(t.Path)} does not exist now; it probably existed at the time of the call (removed since)", null, false);
                continue;
            }
            var what = t.Kind == FileKind.Symlink
                ? $"a symbolic link to {Q(t.LinkTarget ?? "?")}" + (proc.PathWalk(t.Path).Outcome == WalkOutcome.Missing ? $" whose target does not exist ({ev.Syscall} does not follow it, so even a dangling link is in the way)" : "")
                : $"{A(t.Kind)} ({Owner(proc, t)})";
            var fix = t.Kind == FileKind.Directory && ev.Syscall is "mkdir" or "mkdirat"
                ? "if an existing directory is fine, treat EEXIST as success (like mkdir -p)"
                : $"remove {Sh(t.Path)} first, or choose another name";
            yield return new Explanation(Id, $"{Q(t.Path)} already exists: it is {what}", fix);
        }
    }
}
