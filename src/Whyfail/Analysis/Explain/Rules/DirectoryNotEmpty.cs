using Whyfail.Events;
using static Whyfail.Analysis.Explain.Words;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>ENOTEMPTY (or EEXIST) from rmdir/rename: how many entries the directory still has, and a few names.</summary>
public sealed class DirectoryNotEmpty : IExplainRule
{
    public string Id => "dir.not_empty";

    public bool AppliesTo(SyscallEvent ev) =>
        (ev.Errno == Errnos.ENOTEMPTY || (ev.Errno == Errnos.EEXIST && (SyscallArgs.RemovesDirectory(ev) || ev.Syscall.StartsWith("rename", StringComparison.Ordinal))))
        && SyscallArgs.Paths(ev).Count > 0;

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        foreach (var pa in SyscallArgs.Paths(ev))
        {
            bool relevant = SyscallArgs.RemovesDirectory(ev) ? pa.Op == PathOp.Remove : pa.Op == PathOp.RenameTo;
            if (!relevant) continue;
            var w = PathRules.Walk(ev, proc, pa);
            if (PathRules.NoteUnwalkable(proc, w)) continue;
            if (!w.Ok || w.Target is not { Kind: FileKind.Directory } t) continue;
            var names = PathRules.List(t);
            if (names is null) continue;
            proc.Checked.Add($"the entries of {Q(t.Path)}");
            if (names.Count == 0)
            {
                yield return new Explanation(Id, $"{Q(t.Path)} is empty now; it probably still had entries at the time of the call (removed since)", null, false);
                continue;
            }
            var sample = names.Order(StringComparer.Ordinal).Take(5).Select(Q);
            var more = names.Count > 5 ? ", …" : "";
            var role = pa.Op == PathOp.RenameTo ? "the rename target " : "";
            yield return new Explanation(Id,
                $"{role}{Q(t.Path)} is not empty: it contains {Plural(names.Count, "entry", "entries")} ({string.Join(", ", sample)}{more}); only an empty directory can be {(pa.Op == PathOp.RenameTo ? "replaced" : "removed")}",
                pa.Op == PathOp.RenameTo ? $"remove or empty {Sh(t.Path)} first" : $"remove its contents first (rm -r {Sh(t.Path)} removes everything)");
        }
    }
}
