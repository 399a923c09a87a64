using Whyfail.Events;
using static Whyfail.Analysis.Explain.Words;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// EINVAL from readlink/readlinkat: the path is not a symbolic link (or the buffer size is not positive).
/// Programs resolving paths call readlink on every component and expect this answer for the ordinary ones.
/// </summary>
public sealed class NotASymlink : IExplainRule
{
    public string Id => "path.not_symlink";

    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.EINVAL && ev.Syscall is "readlink" or "readlinkat";

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        long size = unchecked((int)(uint)ev.Args[ev.Syscall == "readlink" ? 2 : 3]);
        if (size <= 0)
        {
            yield return new Explanation(Id, $"the buffer size is {size}: readlink needs a positive one", "pass the buffer's real size");
            yield break;
        }
        foreach (var pa in SyscallArgs.Paths(ev))
        {
            var w = PathRules.Walk(ev, proc, pa, follow: false);
            if (PathRules.NoteUnwalkable(proc, w))
            {
                // With a positive buffer size, EINVAL has this one meaning: no need to see the file.
                if (!proc.Alive)
                    yield return new Explanation(Id,
                        $"{Q(pa.Path)} was not a symbolic link when the call ran (with a positive buffer size, readlink fails with EINVAL for nothing else); " +
                        "programs that resolve paths call readlink on each component and expect this answer for ordinary files and directories",
                        null, FromErrno: true);
                continue;
            }
            proc.Checked.Add($"what {Q(pa.Path)} is");
            if (w.Target is not { Exists: true } t) continue;
            if (t.Kind == FileKind.Symlink)
            {
                yield return new Explanation(Id, $"{Q(t.Path)} is a symbolic link now; it probably was not one at the time of the call (replaced since)", null, false);
                continue;
            }
            yield return new Explanation(Id,
                $"{Q(t.Path)} is {A(t.Kind)}, not a symbolic link, so there is no link target to read; programs that resolve paths call readlink on each component and expect this answer for ordinary files and directories",
                null);
        }
    }
}
