using System.Text;
using Whyfail.Capture.Native;
using Whyfail.Events;

namespace Whyfail.Analysis.Explain;

/// <summary>What a system call does with a path argument, for deciding which permissions it needs.</summary>
public enum PathOp
{
    /// <summary>Only looks the path up (stat, readlink, getxattr, statfs, …): needs search on the directories.</summary>
    Lookup,
    /// <summary>open/openat/openat2/creat: access from the open flags; O_CREAT creates in the parent.</summary>
    Open,
    /// <summary>Creates a new name (mkdir, mknod, symlink's link path, link's new path): write+search on the parent.</summary>
    Create,
    /// <summary>Removes a name (unlink, rmdir, rename's old path): write+search on the parent, sticky rules.</summary>
    Remove,
    /// <summary>rename's new path: write+search on the parent, replaces what is there.</summary>
    RenameTo,
    /// <summary>link's old path (the existing file).</summary>
    LinkFrom,
    /// <summary>execve/execveat: execute permission on a regular file on a mount without noexec.</summary>
    Exec,
    /// <summary>access/faccessat: the mode bits asked for, checked with the real ids.</summary>
    Access,
    /// <summary>chdir/chroot: search permission on a directory.</summary>
    Chdir,
    /// <summary>truncate, setxattr, removexattr: write permission on the file.</summary>
    Write,
    /// <summary>inotify_add_watch: read permission on the file.</summary>
    Read,
    /// <summary>chmod/chown/utimes/…: ownership rules (EPERM) rather than permission bits.</summary>
    Attr,
    /// <summary>umount/umount2 target, mount target.</summary>
    Mount,
}

/// <summary>One path argument of a call: where the path and its directory descriptor are, and how it is used.</summary>
/// <param name="DirfdArg">The argument holding the directory descriptor, or -1 (relative to the cwd).</param>
public sealed record PathArg(int Arg, int DirfdArg, PathOp Op, bool FollowFinal, string Path)
{
    /// <summary>The directory descriptor value when the call passed one (AT_FDCWD = -100 included), else null.</summary>
    public int? Dirfd { get; init; }
}

/// <summary>x86_64 argument positions and flag decoding for the calls the rules understand.</summary>
public static class SyscallArgs
{
    public const int O_WRONLY = Libc.O_WRONLY, O_RDWR = Libc.O_RDWR, O_ACCMODE = Libc.O_ACCMODE, O_CREAT = Libc.O_CREAT,
        O_EXCL = Libc.O_EXCL, O_TRUNC = Libc.O_TRUNC, O_APPEND = Libc.O_APPEND, O_DIRECTORY = Libc.O_DIRECTORY,
        O_NOFOLLOW = Libc.O_NOFOLLOW, O_PATH = Libc.O_PATH, O_TMPFILE = Libc.O_TMPFILE;
    public const int AT_SYMLINK_NOFOLLOW = Libc.AT_SYMLINK_NOFOLLOW, AT_REMOVEDIR = Libc.AT_REMOVEDIR, AT_EACCESS = Libc.AT_EACCESS,
        AT_SYMLINK_FOLLOW = Libc.AT_SYMLINK_FOLLOW, AT_EMPTY_PATH = Libc.AT_EMPTY_PATH;

    /// <summary>The low 32 bits of an argument as a signed int (how the kernel reads an int parameter).</summary>
    public static int Int(SyscallEvent ev, int i) => i >= 0 && i < ev.Args.Length ? unchecked((int)(uint)ev.Args[i]) : 0;

    /// <summary>The captured string of argument <paramref name="i"/> (UTF-8), or null when none was captured.</summary>
    public static string? String(SyscallEvent ev, int i) => ev.Capture(i)?.Data is { } d ? Encoding.UTF8.GetString(d) : null;

    /// <summary>The open flags of open/openat/openat2/creat, or null when they are not known.</summary>
    public static int? OpenFlags(SyscallEvent ev) => ev.Syscall switch
    {
        "open" => Int(ev, 1),
        "openat" => Int(ev, 2),
        "creat" => O_CREAT | O_WRONLY | O_TRUNC,
        "openat2" => ev.Capture(2)?.Data is { Length: >= 8 } how ? (int)BitConverter.ToUInt64(how, 0) : null,
        _ => null,
    };

    /// <summary>The open flags read a file and nothing else: read-only access, nothing created or truncated.</summary>
    public static bool ReadsOnly(int flags) => (flags & O_ACCMODE) == 0 && (flags & (O_CREAT | O_TRUNC)) == 0;

    /// <summary>What the open flags ask for on the file itself.</summary>
    public static Access OpenAccess(int flags)
    {
        if ((flags & O_PATH) != 0) return Access.None;
        var a = (flags & O_ACCMODE) switch { 0 => Access.Read, O_WRONLY => Access.Write, _ => Access.Read | Access.Write };
        if ((flags & O_TRUNC) != 0) a |= Access.Write;
        return a;
    }

    /// <summary>The path arguments of the call, with their decoded paths (only those that were captured).</summary>
    public static IReadOnlyList<PathArg> Paths(SyscallEvent ev)
    {
        var r = new List<PathArg>(2);
        void Add(int arg, int dirfdArg, PathOp op, bool follow)
        {
            var s = String(ev, arg);
            if (s is null) return;
            r.Add(new PathArg(arg, dirfdArg, op, follow, s) { Dirfd = dirfdArg >= 0 ? Int(ev, dirfdArg) : null });
        }
        bool NoFollowAt(int flagsArg) => (Int(ev, flagsArg) & AT_SYMLINK_NOFOLLOW) == 0;
        switch (ev.Syscall)
        {
            case "open": case "creat": case "openat": case "openat2":
            {
                int flags = OpenFlags(ev) ?? 0;
                bool follow = (flags & O_NOFOLLOW) == 0 && (flags & (O_CREAT | O_EXCL)) != (O_CREAT | O_EXCL);
                Add(ev.Syscall is "openat" or "openat2" ? 1 : 0, ev.Syscall is "openat" or "openat2" ? 0 : -1, PathOp.Open, follow);
                break;
            }
            case "stat": case "statfs": case "getxattr": case "listxattr": case "uselib": case "swapon": case "swapoff": case "acct":
                Add(0, -1, PathOp.Lookup, true); break;
            case "lstat": case "lgetxattr": case "llistxattr": case "readlink":
                Add(0, -1, PathOp.Lookup, false); break;
            case "newfstatat": Add(1, 0, PathOp.Lookup, NoFollowAt(3)); break;
            case "statx": Add(1, 0, PathOp.Lookup, NoFollowAt(2)); break;
            case "readlinkat": Add(1, 0, PathOp.Lookup, false); break;
            case "name_to_handle_at": Add(1, 0, PathOp.Lookup, (Int(ev, 4) & AT_SYMLINK_FOLLOW) != 0); break;
            case "setxattr": case "removexattr": case "truncate": Add(0, -1, PathOp.Write, true); break;
            case "lsetxattr": case "lremovexattr": Add(0, -1, PathOp.Write, false); break;
            case "chmod": case "chown": case "utime": case "utimes": Add(0, -1, PathOp.Attr, true); break;
            case "lchown": Add(0, -1, PathOp.Attr, false); break;
            case "fchmodat": case "futimesat": Add(1, 0, PathOp.Attr, true); break;
            case "fchmodat2": case "utimensat": Add(1, 0, PathOp.Attr, NoFollowAt(3)); break;
            case "fchownat": Add(1, 0, PathOp.Attr, NoFollowAt(4)); break;
            case "access": Add(0, -1, PathOp.Access, true); break;
            case "faccessat": Add(1, 0, PathOp.Access, true); break;
            case "faccessat2": Add(1, 0, PathOp.Access, NoFollowAt(3)); break;
            case "chdir": case "chroot": Add(0, -1, PathOp.Chdir, true); break;
            case "execve": Add(0, -1, PathOp.Exec, true); break;
            case "execveat": Add(1, 0, PathOp.Exec, NoFollowAt(4)); break;
            case "mkdir": case "mknod": Add(0, -1, PathOp.Create, false); break;
            case "mkdirat": case "mknodat": Add(1, 0, PathOp.Create, false); break;
            case "rmdir": case "unlink": Add(0, -1, PathOp.Remove, false); break;
            case "unlinkat": Add(1, 0, PathOp.Remove, false); break;
            case "rename": Add(0, -1, PathOp.Remove, false); Add(1, -1, PathOp.RenameTo, false); break;
            case "renameat": case "renameat2": Add(1, 0, PathOp.Remove, false); Add(3, 2, PathOp.RenameTo, false); break;
            case "link": Add(0, -1, PathOp.LinkFrom, false); Add(1, -1, PathOp.Create, false); break;
            case "linkat": Add(1, 0, PathOp.LinkFrom, (Int(ev, 4) & AT_SYMLINK_FOLLOW) != 0); Add(3, 2, PathOp.Create, false); break;
            case "symlink": Add(1, -1, PathOp.Create, false); break;
            case "symlinkat": Add(2, 1, PathOp.Create, false); break;
            case "inotify_add_watch": Add(1, -1, PathOp.Read, (Int(ev, 2) & 0x02000000) == 0); break;
            case "mount": Add(1, -1, PathOp.Mount, true); break;
            case "umount2": case "umount": Add(0, -1, PathOp.Mount, (Int(ev, 1) & 8) == 0); break;
            case "connect": case "bind":
                // A Unix socket path: bind creates it (mknod), connect needs write permission on it.
                if (SockAddr.Decode(ev.Capture(1)?.Data) is { IsUnix: true, Abstract: false, UnixPath: { Length: > 0 } up })
                    r.Add(new PathArg(1, -1, ev.Syscall == "bind" ? PathOp.Create : PathOp.Write, ev.Syscall == "connect", up));
                break;
        }
        return r;
    }

    /// <summary>True for calls that remove a directory (rmdir, unlinkat with AT_REMOVEDIR).</summary>
    public static bool RemovesDirectory(SyscallEvent ev) =>
        ev.Syscall == "rmdir" || (ev.Syscall == "unlinkat" && (Int(ev, 2) & AT_REMOVEDIR) != 0);

    /// <summary>The argument positions holding file descriptors the call uses (not the ones it returns).</summary>
    public static int[] FdArgs(SyscallEvent ev) => ev.Syscall switch
    {
        "read" or "write" or "close" or "fstat" or "lseek" or "ioctl" or "pread64" or "pwrite64" or "readv" or "writev"
            or "connect" or "accept" or "accept4" or "sendto" or "recvfrom" or "sendmsg" or "recvmsg" or "sendmmsg" or "recvmmsg"
            or "shutdown" or "bind" or "listen" or "getsockname" or "getpeername" or "setsockopt" or "getsockopt"
            or "fcntl" or "flock" or "fsync" or "fdatasync" or "ftruncate" or "getdents" or "getdents64" or "fchdir"
            or "fchmod" or "fchown" or "fstatfs" or "readahead" or "fsetxattr" or "fgetxattr" or "flistxattr"
            or "fremovexattr" or "epoll_wait" or "epoll_pwait" or "epoll_pwait2" or "fadvise64" or "inotify_add_watch"
            or "inotify_rm_watch" or "sync_file_range" or "vmsplice" or "fallocate" or "timerfd_settime"
            or "timerfd_gettime" or "dup" or "dup2" or "dup3" or "syncfs" or "setns" or "preadv" or "pwritev" or "preadv2"
            or "pwritev2" or "finit_module" or "fanotify_mark" or "pidfd_send_signal" or "pidfd_getfd" or "io_uring_enter"
            or "io_uring_register" or "fsconfig" or "fsmount" or "move_mount" => [0],
        "epoll_ctl" => [0, 2],
        "sendfile" or "tee" => [0, 1],
        "splice" or "copy_file_range" => [0, 2],
        "mmap" => (Int(ev, 3) & 0x20) == 0 ? [4] : [],
        _ => [],
    };

    /// <summary>Syscalls whose arg 0 write data through the descriptor.</summary>
    public static bool WritesFd(string sc) => sc is "write" or "pwrite64" or "writev" or "pwritev" or "pwritev2" or "ftruncate" or "fallocate";

    /// <summary>Syscalls whose arg 0 read data through the descriptor.</summary>
    public static bool ReadsFd(string sc) => sc is "read" or "pread64" or "readv" or "preadv" or "preadv2" or "getdents" or "getdents64";
}
