using Whyfail.Events;
using static Whyfail.Analysis.Explain.Words;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>ENOTDIR: which component is not a directory although the path goes on (or the call needs a directory).</summary>
public sealed class PathNotDirectory : IExplainRule
{
    public string Id => "path.not_directory";

    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.ENOTDIR && SyscallArgs.Paths(ev).Count > 0;

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        var paths = SyscallArgs.Paths(ev);
        foreach (var pa in paths)
        {
            var w = PathRules.Walk(ev, proc, pa);
            if (PathRules.NoteUnwalkable(proc, w)) continue;
            proc.Checked.Add($"the type of each component of {Q(pa.Path)}");
            if (w.Outcome == WalkOutcome.NotDirectory && w.FailedAt is { } c)
            {
                if (c.IsStart && pa.Path[0] != '/')
                {
                    yield return new Explanation(Id,
                        $"{Q(pa.Path)} is relative to directory descriptor {pa.Dirfd}, but that descriptor refers to {Q(c.Path)}, which is not a directory");
                    continue;
                }
                if (c == w.Target && w.MustBeDirectory)
                {
                    yield return new Explanation(Id,
                        $"{Q(pa.Path)} ends with \"/\", which requires a directory, but {Q(c.Path)} is {A(c.Kind)}{PathRules.Via(c)}",
                        $"drop the trailing slash");
                    continue;
                }
                yield return new Explanation(Id,
                    $"{Q(c.Path)} is {A(c.Kind)}, not a directory, but the path {Q(pa.Path)} continues after it{PathRules.Via(c)}",
                    $"check the path: {Sh(c.Path)} cannot contain other files");
                continue;
            }
            if (!w.Ok || w.Target is not { Exists: true } t || t.Kind == FileKind.Directory) continue;
            string? need = null;
            if (SyscallArgs.RemovesDirectory(ev)) need = $"{ev.Syscall} removes only directories";
            else if (pa.Op == PathOp.Open && ((SyscallArgs.OpenFlags(ev) ?? 0) & SyscallArgs.O_DIRECTORY) != 0) need = "the call used O_DIRECTORY";
            else if (pa.Op == PathOp.Chdir) need = $"{ev.Syscall} needs a directory";
            else if (ev.Syscall == "inotify_add_watch" && (SyscallArgs.Int(ev, 2) & 0x01000000) != 0) need = "the watch used IN_ONLYDIR";
            else if (pa.Op == PathOp.RenameTo && paths.FirstOrDefault(p => p.Op == PathOp.Remove) is { } old
                     && PathRules.Walk(ev, proc, old).Target is { Kind: FileKind.Directory })
                need = $"the source {Q(old.Path)} is a directory, and a directory can only replace a directory";
            if (need != null)
                yield return new Explanation(Id, $"{Q(t.Path)} is {A(t.Kind)}, not a directory, and {need}");
        }
    }
}
