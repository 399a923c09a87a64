using Whyfail.Events;

namespace Whyfail.Analysis.Explain;

/// <summary>
/// The failure's context (<see cref="FailureContext"/>, captured in the kernel at the call's exit) as the first source
/// of the process's state: credentials, limits, cwd and root, the descriptor arguments' files. /proc is read only for
/// what the context does not hold; what neither has is noted in <see cref="Lost"/>, which decides the process.gone note.
/// </summary>
public sealed partial class ProcessView
{
    /// <summary>The task's state at the failure, when the kernel side captured it.</summary>
    public FailureContext? Context { get; }

    /// <summary>Facts a rule needed that were neither captured nor live (the process is gone), in plain words.</summary>
    public List<string> Lost { get; } = [];

    /// <summary>Why absolute paths cannot be walked (the process ran under another root, and is gone), or null.</summary>
    public string? RootUnresolvable { get; private set; }

    /// <summary>Why relative paths cannot be walked, when the working directory is known by name only, or null.</summary>
    private string? cwdUnresolvable;

    /// <summary>Where this machine reaches the process's working directory, or null when it cannot.</summary>
    private string? cwdHost;

    /// <summary>Notes a fact that a rule needed and could not have: not captured, and the process is gone.</summary>
    public void NoteLost(string fact)
    {
        if (!Lost.Contains(fact)) Lost.Add(fact);
    }

    private static Credentials FromContext(FailureContext c, Credentials? live) =>
        new(c.Uid, c.Euid, c.Suid, c.Fsuid, c.Gid, c.Egid, c.Sgid, c.Fsgid,
            c.AllGroups || live is null ? c.Groups : live.Groups,
            c.CapEffective, c.CapPermitted, live?.CapBnd ?? ulong.MaxValue >> (64 - 41), c.NoNewPrivs, c.SeccompMode, true);

    // btrfs gives each subvolume a device number of its own in stat, while the kernel side reads the file system's:
    // there the mount id stands in for the device.
    private static bool SameFile(ContextFile f, in FileStat st) =>
        st.Ino == f.Inode && ((st.DevMajor == f.DevMajor && st.DevMinor == f.DevMinor) ||
                              (f.FsType == "btrfs" && f.MountId > 0 && st.MountId == (ulong)f.MountId));

    /// <summary>
    /// Places root and cwd from the context: for a process that is gone, absolute paths are walked from this machine's
    /// path to its root (the same directory, checked by device and inode), relative ones from its working directory
    /// found the same way. When they cannot be found, walks say so instead of walking from somewhere else.
    /// </summary>
    private (string RootPrefix, string? Cwd, bool CwdDeleted) PlaceFromContext(FailureContext c, string rootPrefix, string? liveCwd, bool liveCwdDeleted)
    {
        string prefix = rootPrefix;
        if (!Alive && c.Root is { Open: true } root)
        {
            var rp = root.Path;
            if (rp is not null && Native.Stat(rp + (rp == "/" ? "" : "/"), out var st, follow: true) == 0 && SameFile(root, st))
                prefix = rp == "/" ? "" : rp;
            // The kernel side names the root from whyfail's own root ("/" when they are the same). The same directory
            // under no such name (whyfail in another mount namespace, or a kernel without statx's mount id, where the
            // walk goes up to the namespace's root): paths resolve from "/" as they did for the process.
            else if (Native.Stat("/", out var own, follow: true) == 0 && SameFile(root, own))
                prefix = "";
            else
                RootUnresolvable = $"pid {Pid} ran with its root at {(rp is null ? "a directory outside this mount namespace" : Words.Q(rp))} (device {root.DevMajor}:{root.DevMinor}, inode {root.Inode}), which this machine does not reach now, and has exited";
        }
        if (c.Cwd is not { Open: true } cwd)
        {
            cwdHost = Alive ? $"{TaskDir}/cwd" : null;
            return (prefix, liveCwd, liveCwdDeleted);
        }
        // Alive and still in the same directory: /proc/PID/cwd reaches it, whatever its name.
        if (Alive && Native.Stat($"{TaskDir}/cwd", out var now, follow: true) == 0 && SameFile(cwd, now))
        {
            cwdHost = $"{TaskDir}/cwd";
            return (prefix, liveCwd ?? cwd.Path, liveCwdDeleted);
        }
        var path = cwd.Path;
        if (path is null)
        {
            cwdUnresolvable = $"the working directory of pid {Pid} at the time ({cwd.Target ?? "a directory outside its root"}) has no full path";
            return (prefix, null, cwd.Deleted);
        }
        if (cwd.Deleted)
        {
            cwdUnresolvable = $"the working directory of pid {Pid} at the time ({Words.Q(path)}) had been removed";
            return (prefix, path, true);
        }
        if (RootUnresolvable is null && Native.Stat(prefix + path, out var there, follow: true) == 0 && SameFile(cwd, there))
            cwdHost = prefix + path;
        else
            cwdUnresolvable = $"the working directory of pid {Pid} at the time, {Words.Q(path)} (device {cwd.DevMajor}:{cwd.DevMinor}, inode {cwd.Inode}), is not reachable at that name now";
        return (prefix, path, false);
    }

    /// <summary>The descriptor's file as captured at the failure, as an <see cref="FdInfo"/> (no fdinfo lines).</summary>
    private FdInfo? FdFromContext(int fd)
    {
        if (Context?.File(fd) is not { } f) return null;
        if (!f.Open) return null;
        var target = f.Target ?? $"{f.FsType}:[{f.Inode}]";
        return new FdInfo(fd, target, (int)f.OpenFlags, f.Position, f.MountId, new Dictionary<string, string>(), []);
    }

    /// <summary>
    /// The failing task's own descriptors that had the file <paramref name="st"/> (at <paramref name="path"/> in the
    /// task's view) open for writing at the failure (captured for ETXTBSY from execve), as <see cref="FdInfo"/>s.
    /// </summary>
    public IReadOnlyList<FdInfo> CapturedWritersOf(in FileStat st, string path)
    {
        var r = new List<FdInfo>();
        foreach (var f in Context?.Writers ?? [])
            if (f.Open && (SameFile(f, st) || (SameOverlayEntry(f, st) && f.Path == path)))
                r.Add(new FdInfo(f.Fd, f.Target ?? path, (int)f.OpenFlags, f.Position, f.MountId, new Dictionary<string, string>(), []));
        return r;
    }

    /// <summary>The context knows whether descriptor <paramref name="fd"/> was open at the failure.</summary>
    public bool FdKnown(int fd) => Context?.File(fd) is not null;

    /// <summary>A stat of a captured file (mode, inode, device; no owner or size).</summary>
    internal static FileStat StatOf(ContextFile f)
    {
        var kind = f.Type switch
        {
            0x8000 => FileKind.Regular, 0x4000 => FileKind.Directory, 0xA000 => FileKind.Symlink,
            0x2000 => FileKind.CharDevice, 0x6000 => FileKind.BlockDevice, 0x1000 => FileKind.Fifo,
            0xC000 => FileKind.Socket, _ => FileKind.Unknown,
        };
        return new FileStat(kind, f.Mode & 0xFFF, 0, 0, f.Inode, f.DevMajor, f.DevMinor, 0, 0, (ulong)Math.Max(f.MountId, 0), 0);
    }

    /// <summary>
    /// Open descriptors at the failure (counted in the kernel for EMFILE), or now when the process is alive, or null.
    /// </summary>
    public int? OpenFdCount()
    {
        if (Context?.OpenFds is { } n) return n;
        if (Alive) return FdNumbers().Count;
        NoteLost("the number of open descriptors");
        return null;
    }

    /// <summary>
    /// Where this machine reaches the file of descriptor <paramref name="fd"/>: /proc/PID/fd/N while the process lives
    /// (and the descriptor is still that file), else the file's path when it is still there under the same identity.
    /// </summary>
    public string? FdHostPath(int fd)
    {
        var f = Context?.File(fd);
        if (Alive && (f is null || (StatFdLive(fd, out var st) && SameFile(f, st)))) return $"{TaskDir}/fd/{fd}";
        if (f is { Open: true, Path: { } p } && RootUnresolvable is null && !f.Deleted &&
            Native.Stat(RootPrefix + p, out var there, follow: true) == 0 && SameFile(f, there))
            return RootPrefix + p;
        return null;
    }
}
