using Whyfail.Events;
using static Whyfail.Analysis.Explain.Words;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// EINVAL from rename: the source is a directory and the destination lies inside it (`mv dir dir/sub/x`), named
/// by the component of the destination path that is the source directory itself.
/// </summary>
public sealed class RenameIntoItself : IExplainRule
{
    public string Id => "path.rename_into_itself";

    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.EINVAL && ev.Syscall is "rename" or "renameat" or "renameat2";

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        var paths = SyscallArgs.Paths(ev);
        var from = paths.FirstOrDefault(p => p.Op == PathOp.Remove);
        var to = paths.FirstOrDefault(p => p.Op == PathOp.RenameTo);
        if (from is null || to is null) yield break;
        var wf = PathRules.Walk(ev, proc, from);
        var wt = PathRules.Walk(ev, proc, to);
        if (PathRules.NoteUnwalkable(proc, wf) | PathRules.NoteUnwalkable(proc, wt)) yield break;
        if (wf.Target is not { Exists: true, Kind: FileKind.Directory } dir) yield break;
        proc.Checked.Add($"whether {Q(to.Path)} lies inside {Q(dir.Path)}");
        // The destination's parent directories as the walk met them (the final component aside).
        var inside = wt.Components.Where(c => c != wt.Target && c.Exists && c.Kind == FileKind.Directory)
            .FirstOrDefault(c => c.Stat.SameFile(dir.Stat));
        if (inside is null) yield break;
        yield return new Explanation(Id,
            $"{Q(from.Path)} is a directory and the destination {Q(to.Path)} lies inside it (through {Q(inside.Path)}): a directory cannot be moved into itself or one of its own subdirectories",
            $"choose a destination outside {Sh(dir.Path)}");
    }
}
