using Whyfail.Events;
using static Whyfail.Analysis.Explain.Words;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// EBUSY from umount: the processes with their working directory, root, program, open files or mapped files on
/// the mount, and the mounts below it; EBUSY from rmdir/rename of a mount point.
/// </summary>
public sealed class MountBusy : IExplainRule
{
    public string Id => "mount.busy";

    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.EBUSY &&
        ev.Syscall is "umount2" or "umount" or "rmdir" or "unlinkat" or "rename" or "renameat" or "renameat2";

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        foreach (var pa in SyscallArgs.Paths(ev))
        {
            var w = PathRules.Walk(ev, proc, pa);
            if (PathRules.NoteUnwalkable(proc, w) || !w.Ok || w.Target is not { Exists: true, Mount: { } m } t) continue;
            bool isMountPoint = m.MountPoint == t.Path || proc.Mounts.Any(x => x.MountPoint == t.Path);
            if (pa.Op != PathOp.Mount)
            {
                if (isMountPoint)
                    yield return new Explanation(Id, $"{Q(t.Path)} is a mount point ({m.FsType} from {m.Source}) in pid {proc.Pid}'s mount namespace; it cannot be removed or renamed while something is mounted on it", $"umount {Sh(t.Path)} first");
                continue;
            }
            if (m.MountPoint != t.Path) continue; // EINVAL territory: not a mount point
            var children = proc.Mounts.Where(x => x.ParentId == m.Id).ToList();
            var users = ProcScan.UsersOfMount((ulong)m.Id).Where(u => u.Pid != proc.Pid || u.What == "fd").ToList();
            proc.Checked.Add($"processes using the mount {Q(m.MountPoint)} (cwd, root, program, descriptors, mapped files) and mounts below it");
            var parts = new List<string>();
            if (users.Count > 0)
                parts.Add(string.Join("; ", users.Take(5).Select(ProcScan.Describe)) + (users.Count > 5 ? $"; and {users.Count - 5} more" : ""));
            if (children.Count > 0)
                parts.Add($"{Plural(children.Count, "mount is", "mounts are")} below it ({string.Join(", ", children.Take(3).Select(c => Q(c.MountPoint)))})");
            if (parts.Count == 0)
            {
                yield return new Explanation(Id,
                    $"nothing visible uses {Q(m.MountPoint)} now; it was probably in use at the time of the call, or a kernel user holds it (a loop device, swap file, or a copy of the mount in another namespace)",
                    $"umount -l {Sh(m.MountPoint)} detaches it anyway", false);
                continue;
            }
            yield return new Explanation(Id,
                $"{Q(m.MountPoint)} ({m.FsType} from {m.Source}) is busy: {string.Join("; ", parts)}",
                $"stop or move those processes (fuser -vm {Sh(m.MountPoint)} lists them), or detach it lazily with umount -l {Sh(m.MountPoint)}");
        }
    }
}
