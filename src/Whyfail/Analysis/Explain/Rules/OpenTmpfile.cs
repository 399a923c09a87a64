using Whyfail.Events;
using static Whyfail.Analysis.Explain.SyscallArgs;
using static Whyfail.Analysis.Explain.Words;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// open/openat/openat2 with O_TMPFILE: EINVAL when the flags are refused (build_open_flags: O_TMPFILE needs O_WRONLY
/// or O_RDWR and excludes O_CREAT), EOPNOTSUPP when the directory's file system has no unnamed temporary files
/// (vfat, 9p, procfs, …: no tmpfile inode operation).
/// </summary>
public sealed class OpenTmpfile : IExplainRule
{
    public string Id => "open.tmpfile";

    const int TmpfileBit = O_TMPFILE & ~O_DIRECTORY; // __O_TMPFILE

    public bool AppliesTo(SyscallEvent ev) => ev.Errno is Errnos.EINVAL or Errnos.EOPNOTSUPP &&
        ev.Syscall is "open" or "openat" or "openat2" && OpenFlags(ev) is { } f && (f & TmpfileBit) != 0;

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        int flags = OpenFlags(ev)!.Value;
        proc.Checked.Add("the O_TMPFILE flags");
        if (ev.Errno == Errnos.EINVAL)
        {
            if ((flags & O_CREAT) != 0)
                yield return new Explanation(Id, "the flags combine O_TMPFILE with O_CREAT, which the kernel refuses: O_TMPFILE already creates an unnamed file", "drop O_CREAT");
            else if ((flags & O_DIRECTORY) == 0)
                yield return new Explanation(Id, "the flags hold O_TMPFILE's own bit without O_DIRECTORY (O_TMPFILE is both), which the kernel refuses", "use the O_TMPFILE constant from <fcntl.h>");
            else if ((flags & O_ACCMODE) is not (O_WRONLY or O_RDWR))
                yield return new Explanation(Id,
                    $"O_TMPFILE was asked with access mode {((flags & O_ACCMODE) == 0 ? "O_RDONLY" : "3 (no valid access mode)")}: an unnamed temporary file must be opened for writing (O_WRONLY or O_RDWR), since nothing else could ever fill it",
                    "open it with O_TMPFILE | O_RDWR (or O_WRONLY)");
            yield break;
        }
        foreach (var pa in Paths(ev))
        {
            var w = PathRules.Walk(ev, proc, pa);
            if (PathRules.NoteUnwalkable(proc, w)) continue;
            if (w.Target is not { Exists: true } dir) continue;
            var m = dir.Mount;
            string fs = m is null ? "its file system" : $"the {m.FsType} file system mounted at {Q(m.MountPoint)}";
            proc.Checked.Add($"the file system of {Q(pa.Path)}");
            yield return new Explanation(Id,
                $"the directory {Q(pa.Path)} is on {fs}, which does not support O_TMPFILE (unnamed temporary files need the file system's tmpfile operation: ext4, xfs, btrfs, tmpfs and others have it; vfat, 9p and pseudo file systems such as procfs do not)",
                "create the temporary file in a directory on a file system that supports it (e.g. /tmp or /var/tmp), or fall back to mkstemp() and unlink()");
            yield break;
        }
    }
}
