using System.Globalization;
using Whyfail.Events;
using static Whyfail.Analysis.Explain.Words;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>ENOSPC on a file system: which one (mount, type), its free blocks and inodes, and the root reserve.</summary>
public sealed class NoSpace : IExplainRule
{
    public string Id => "fs.no_space";

    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.ENOSPC && ev.Syscall is not ("inotify_add_watch" or "epoll_ctl" or "fanotify_mark" or "io_setup" or "keyctl" or "add_key");

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        foreach (var pa in SyscallArgs.Paths(ev))
        {
            var w = PathRules.Walk(ev, proc, pa);
            if (PathRules.NoteUnwalkable(proc, w)) continue;
            var c = PathRulesWrite.WrittenComponent(ev, pa, w) ?? w.Target ?? w.TargetDir;
            if (c is not { Exists: true }) continue;
            var e = Describe(ev, proc, Q(pa.Path), c.HostPath, c.Mount);
            if (e != null) { yield return e; yield break; }
        }
        foreach (var i in SyscallArgs.FdArgs(ev))
        {
            var fd = proc.Fd(SyscallArgs.Int(ev, i));
            if (fd is null || !fd.Target.StartsWith('/')) continue;
            // The file itself, or (the process gone, the file removed) its mount by the id captured at the failure.
            var mount = proc.MountOf(fd);
            var host = proc.FdHostPath(fd.Fd) ?? (!proc.Alive && mount is not null ? mount.MountPoint : null);
            if (host is null) { proc.NoteLost($"the file system of descriptor {fd.Fd}"); continue; }
            var e = Describe(ev, proc, $"descriptor {fd.Fd} ({Q(proc.FdTarget(fd))})", host, mount);
            if (e != null) { yield return e; yield break; }
        }
    }

    private Explanation? Describe(SyscallEvent ev, ProcessView proc, string what, string hostPath, MountEntry? m)
    {
        if (Native.StatVfs(hostPath) is not { } v || v.Blocks == 0) return null;
        var where = m is null ? "its file system" : $"the file system mounted at {Q(m.MountPoint)} ({m.FsType} from {m.Source})";
        proc.Checked.Add($"free space and inodes of {where}");
        ulong size = v.Blocks * v.BlockSize, avail = v.BlocksAvailable * v.BlockSize, free = v.BlocksFree * v.BlockSize;
        bool privileged = proc.Creds.HasCap(Cap.SYS_RESOURCE);
        ulong usable = privileged ? free : avail;
        ulong want = SyscallArgs.WritesFd(ev.Syscall) && ev.Syscall is "write" or "pwrite64" ? ev.Args[2] : 0;
        ulong slack = Math.Max(want, Math.Min(1UL << 20, size / 1000));
        string pct = (100.0 * (size - free) / size).ToString("0.#", CultureInfo.InvariantCulture);
        if (v.Files > 0 && v.FilesFree == 0)
            return new Explanation(Id,
                $"{what} is on {where}, which has no free inodes: all {N(v.Files)} are in use (while {Bytes(avail)} of space is still free), so no new file can be created",
                "delete files (many small ones use up inodes), or grow the file system" + (m?.FsType == "tmpfs" ? $" (remount with a larger nr_inodes=)" : ""));
        if (usable < slack)
        {
            if (!privileged && free >= slack)
                return new Explanation(Id,
                    $"{what} is on {where}, which is full for unprivileged processes: {Bytes(avail)} available of {Bytes(size)}; the remaining {Bytes(free)} is reserved for root (pid {proc.Pid} lacks CAP_SYS_RESOURCE)",
                    "free space (du -xsh …), or lower the reserve (tune2fs -m)");
            return new Explanation(Id,
                $"{what} is on {where}, which is full: {Bytes(usable)} available of {Bytes(size)} ({pct}% used){(want > 0 ? $", and the call wrote {N(want)} bytes" : "")}",
                m?.FsType == "tmpfs" ? $"free space, or remount with a larger size: mount -o remount,size=… {Sh(m.MountPoint)}" : "free space (du -xsh … finds what uses it), or grow the file system");
        }
        return new Explanation(Id,
            $"{what} is on {where}, which has {Bytes(usable)} available now ({pct}% used); it was probably full at the time of the call (space freed since), or a quota or reservation refused it",
            null, false);
    }

    internal static string Bytes(ulong b)
    {
        string[] units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB"];
        double v = b;
        int u = 0;
        while (v >= 1024 && u < units.Length - 1) { v /= 1024; u++; }
        return u == 0 ? $"{b} bytes" : $"{v.ToString(v < 10 ? "0.#" : "0", CultureInfo.InvariantCulture)} {units[u]}";
    }
}
