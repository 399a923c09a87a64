using Whyfail.Events;
using static Whyfail.Analysis.Explain.Words;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// EPERM on unlink/rmdir/rename in a sticky directory (like /tmp): only the entry's owner, the directory's owner
/// or a process with CAP_FOWNER may remove or replace it.
/// </summary>
public sealed class StickyDirectory : IExplainRule
{
    public string Id => "path.sticky_directory";

    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.EPERM &&
        ev.Syscall is "unlink" or "unlinkat" or "rmdir" or "rename" or "renameat" or "renameat2";

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        var creds = proc.Creds;
        foreach (var pa in SyscallArgs.Paths(ev))
        {
            if (pa.Op is not (PathOp.Remove or PathOp.RenameTo)) continue;
            var w = PathRules.Walk(ev, proc, pa);
            if (PathRules.NoteUnwalkable(proc, w)) continue;
            if (!w.Ok || w.Target is not { Exists: true } t || w.TargetDir is not { } dir) continue;
            proc.Checked.Add($"the sticky bit of {Q(dir.Path)} and the owners of it and of {Q(t.Name)}");
            if ((dir.Mode & 0x200) == 0) continue;
            if (t.Uid == creds.Fsuid || dir.Uid == creds.Fsuid || creds.HasCap(Cap.FOWNER)) continue;
            var verb = pa.Op == PathOp.RenameTo ? "replace" : ev.Syscall.StartsWith("rename", StringComparison.Ordinal) ? "rename" : "remove";
            yield return new Explanation(Id,
                $"{Q(dir.Path)} has the sticky bit (mode {Mode(dir.Mode)}, owner {proc.DescribeUser(dir.Uid)}): only the owner of an entry, the directory's owner or a process with CAP_FOWNER may {verb} it; {Q(t.Name)} is owned by {proc.DescribeUser(t.Uid)} and the process runs as {proc.DescribeUser(creds.Fsuid)}",
                $"do it as the entry's owner, {proc.DescribeUser(t.Uid)}, or as the directory's owner");
        }
    }
}
