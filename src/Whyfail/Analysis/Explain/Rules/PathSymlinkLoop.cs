using Whyfail.Events;
using static Whyfail.Analysis.Explain.Words;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>ELOOP: the chain of symbolic links that loops (or is longer than 40), or O_NOFOLLOW on a symlink.</summary>
public sealed class PathSymlinkLoop : IExplainRule
{
    public string Id => "path.symlink_loop";

    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.ELOOP && SyscallArgs.Paths(ev).Count > 0;

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        foreach (var pa in SyscallArgs.Paths(ev))
        {
            var w = PathRules.Walk(ev, proc, pa);
            if (PathRules.NoteUnwalkable(proc, w)) continue;
            proc.Checked.Add($"the symbolic links along {Q(pa.Path)}");
            if (w.Outcome == WalkOutcome.Loop)
            {
                var links = w.Links;
                // The loop: from the first link that is followed again to its next occurrence.
                int start = -1, end = -1;
                for (int i = 0; i < links.Count && start < 0; i++)
                    for (int j = i + 1; j < links.Count; j++)
                        if (links[j].Link == links[i].Link) { start = i; end = j; break; }
                if (start >= 0)
                {
                    var cycle = links.Skip(start).Take(end - start).Select(l => $"{Q(l.Link)} → {Q(l.Target)}");
                    yield return new Explanation(Id,
                        $"the symbolic links form a loop: {string.Join(", ", cycle)}, and back to {Q(links[start].Link)}",
                        $"re-point one of the links (ln -sfn TARGET {Sh(links[start].Link)})");
                }
                else
                    yield return new Explanation(Id,
                        $"resolving {Q(pa.Path)} follows more than {ProcessView.MAXSYMLINKS} symbolic links (first {Q(links[0].Link)} → {Q(links[0].Target)}, last {Q(links[^1].Link)} → {Q(links[^1].Target)})",
                        "shorten the chain of links");
                continue;
            }
            if (!w.Ok || w.Target is not { Kind: FileKind.Symlink } t) continue;
            int flags = SyscallArgs.OpenFlags(ev) ?? 0;
            if (pa.Op == PathOp.Open && (flags & SyscallArgs.O_NOFOLLOW) != 0 && (flags & SyscallArgs.O_PATH) == 0)
                yield return new Explanation(Id,
                    $"{Q(t.Path)} is a symbolic link (to {Q(t.LinkTarget ?? "?")}) and the call used O_NOFOLLOW, which refuses a symbolic link as the last component",
                    "open the link's target, or drop O_NOFOLLOW if following it is intended");
            else if (pa.Op == PathOp.Exec)
                yield return new Explanation(Id,
                    $"{Q(t.Path)} is a symbolic link (to {Q(t.LinkTarget ?? "?")}) and execveat was asked not to follow it (AT_SYMLINK_NOFOLLOW)");
        }
    }
}
