using Whyfail.Events;
using static Whyfail.Analysis.Explain.Words;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>EXDEV from rename/link: the two paths are on different mounts (both named).</summary>
public sealed class CrossDevice : IExplainRule
{
    public string Id => "path.cross_device";

    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.EXDEV &&
        ev.Syscall is "rename" or "renameat" or "renameat2" or "link" or "linkat";

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        var paths = SyscallArgs.Paths(ev);
        var from = paths.FirstOrDefault(p => p.Op is PathOp.Remove or PathOp.LinkFrom);
        var to = paths.FirstOrDefault(p => p.Op is PathOp.RenameTo or PathOp.Create);
        if (from is null || to is null) yield break;
        var wf = PathRules.Walk(ev, proc, from);
        var wt = PathRules.Walk(ev, proc, to);
        if (PathRules.NoteUnwalkable(proc, wf) | PathRules.NoteUnwalkable(proc, wt)) yield break;
        var a = wf.Target is { Exists: true } ft ? ft : null;
        var b = wt.TargetDir;
        if (a?.Mount is not { } ma || b?.Mount is not { } mb) yield break;
        proc.Checked.Add($"the mounts of {Q(a.Path)} and {Q(b.Path)}");
        var verb = ev.Syscall.StartsWith("rename", StringComparison.Ordinal) ? "rename" : "link";
        if (ma.Id != mb.Id)
        {
            var same = ma.Major == mb.Major && ma.Minor == mb.Minor ? " (the same file system, mounted twice — a bind mount still counts as another mount)" : "";
            yield return new Explanation(Id,
                $"{Q(a.Path)} is on the mount {Q(ma.MountPoint)} ({ma.FsType} from {ma.Source}) and {Q(b.Path)} is on the mount {Q(mb.MountPoint)} ({mb.FsType} from {mb.Source}); {verb} cannot cross mounts{same}",
                verb == "rename" ? "copy and then delete (mv does this), or move within the same mount" : "copy the file, or use a symbolic link");
        }
        else if (ma.FsType == "overlay" && a.Kind == FileKind.Directory)
            yield return new Explanation(Id,
                $"{Q(a.Path)} is a directory on the overlay mount {Q(ma.MountPoint)}; overlayfs refuses to rename directories that come from a lower layer unless redirect_dir is on, so this is probably that",
                "copy and delete instead (mv does this), or mount the overlay with redirect_dir=on", false);
    }
}
