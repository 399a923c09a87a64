using Whyfail.Events;
using static Whyfail.Analysis.Explain.Words;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>EPERM because the file (or the directory it is in) has the immutable or append-only attribute.</summary>
public sealed class ImmutableFile : IExplainRule
{
    public string Id => "file.immutable";

    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.EPERM && (SyscallArgs.Paths(ev).Count > 0 || PathRulesWrite.ModifiesFd(ev.Syscall));

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        foreach (var pa in SyscallArgs.Paths(ev))
        {
            var w = PathRules.Walk(ev, proc, pa);
            if (PathRules.NoteUnwalkable(proc, w) || w.Target is null) continue;
            proc.Checked.Add($"the immutable/append-only attributes of {Q(pa.Path)} and its directory");
            // Removing or renaming a name changes the directory; changing the file changes the file.
            var candidates = new List<PathComponent>();
            if (pa.Op is PathOp.Remove or PathOp.RenameTo or PathOp.Create && w.TargetDir is { } d) candidates.Add(d);
            if (w.Target is { Exists: true } t && pa.Op is not PathOp.Lookup and not PathOp.Create) candidates.Add(t);
            foreach (var c in candidates)
            {
                if (c.Stat.Immutable)
                {
                    yield return new Explanation(Id,
                        c.Kind == FileKind.Directory
                            ? $"the directory {Q(c.Path)} has the immutable attribute (chattr +i): nothing can be created, removed or renamed in it, and it cannot be changed itself — not even by root"
                            : $"{Q(c.Path)} has the immutable attribute (chattr +i): it cannot be changed, renamed, deleted or linked to — not even by root",
                        $"chattr -i {Sh(c.Path)} (needs CAP_LINUX_IMMUTABLE)");
                    goto next;
                }
                if (c.Stat.AppendOnly)
                {
                    bool isDirOfRemove = c == w.TargetDir && pa.Op is PathOp.Remove or PathOp.RenameTo;
                    bool appendOk = pa.Op == PathOp.Open && ((SyscallArgs.OpenFlags(ev) ?? 0) & SyscallArgs.O_APPEND) != 0;
                    if (appendOk && !isDirOfRemove) continue;
                    yield return new Explanation(Id,
                        isDirOfRemove
                            ? $"{Q(c.Path)} has the append-only attribute (chattr +a): entries can be added to it but not removed or renamed"
                            : $"{Q(c.Path)} has the append-only attribute (chattr +a): it can only be opened for appending (O_APPEND), not truncated, rewritten, renamed or deleted",
                        $"chattr -a {Sh(c.Path)} (needs CAP_LINUX_IMMUTABLE)");
                    goto next;
                }
            }
        next:;
        }
        if (SyscallArgs.Paths(ev).Count == 0 && SyscallArgs.FdArgs(ev) is [var i, ..] && proc.StatFd(SyscallArgs.Int(ev, i), out var st)
            && proc.Fd(SyscallArgs.Int(ev, i)) is { } fd)
        {
            proc.Checked.Add($"the attributes of descriptor {fd.Fd}'s file");
            if (st.Immutable)
                yield return new Explanation(Id, $"descriptor {fd.Fd} refers to {Q(proc.FdTarget(fd))}, which has the immutable attribute (chattr +i)", $"chattr -i {Sh(proc.FdTarget(fd))}");
            else if (st.AppendOnly)
                yield return new Explanation(Id, $"descriptor {fd.Fd} refers to {Q(proc.FdTarget(fd))}, which has the append-only attribute (chattr +a)", $"chattr -a {Sh(proc.FdTarget(fd))}");
        }
    }
}
