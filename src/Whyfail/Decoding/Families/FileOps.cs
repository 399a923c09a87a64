namespace Whyfail.Decoding;

/// <summary>
/// Operations on names and inodes: unlink, rename, mkdir, rmdir, link, symlink, chmod, chown,
/// utimensat, mknod, readlink, truncate, chdir, chroot, umask, flock, fallocate, lseek, xattrs,
/// memfd_create, close_range, getrandom, acct, name_to_handle_at.
/// </summary>
internal static class FileOpsFamily
{
    private static readonly StructLayout Ts = Xlat.Struct("kernel_timespec");
    private static readonly XlatTable UtimeSpecial = Xlat.Table("utime_special");
    private static readonly XlatTable FileTypes = Xlat.Table("file_types");
    private static readonly uint IfMt = (uint)Xlat.Table("mode_bits")["S_IFMT"];

    public static void Register(Registry r)
    {
        r.Add("unlinkat", c => [c.Dirfd(0), c.Path(1), c.Flags(2, "unlinkat_flags")]);
        r.Add("renameat2", c => [c.Dirfd(0), c.Path(1), c.Dirfd(2), c.Path(3), c.Flags(4, "rename_flags")]);
        r.Add("linkat", c => [c.Dirfd(0), c.Path(1), c.Dirfd(2), c.Path(3), c.Flags(4, "at_flags")]);
        r.Add("fchownat", c => [c.Dirfd(0), c.Path(1), Fmt.Id(c[2]), Fmt.Id(c[3]), c.Flags(4, "at_flags")]);
        r.Add("fchmodat2", c => [c.Dirfd(0), c.Path(1), c.Octal(2), c.Flags(3, "at_flags")]);
        r.Add("utimensat", c => [c.Dirfd(0), c.Path(1), Times(c, 2), c.Flags(3, "at_flags")],
              s => s.Fixed(2, 2 * Ts.Size));
        r.Add("mknod", c => MknodArgs([c.Path(0)], c.UInt(1), c.UInt(2)));
        r.Add("mknodat", c => MknodArgs([c.Dirfd(0), c.Path(1)], c.UInt(2), c.UInt(3)));
        r.Add("umask", c => [Fmt.Octal(c.UInt(0))]);
        r.Add("flock", c => [c.Fd(0), c.Flags(1, "flock_ops")]);
        r.Add("fallocate", c => [c.Fd(0), c.Flags(1, "falloc_flags"), c.LDec(2), c.LDec(3)]);
        r.Add("lseek", c => [c.Fd(0), c.LDec(1), c.Enum(2, "seek_whence", "SEEK_???")]);
        r.Add("setxattr lsetxattr", c => [c.Path(0), c.Str(1), c.Buf(2), c.UDec(3), c.Flags(4, "xattr_flags")],
              s => s.Sized(2, 3, CaptureSpec.BufferSize));
        r.Add("fsetxattr", c => [c.Fd(0), c.Str(1), c.Buf(2), c.UDec(3), c.Flags(4, "xattr_flags")],
              s => s.Sized(2, 3, CaptureSpec.BufferSize));
        r.Add("memfd_create", c => [c.Str(0), c.Flags(1, "memfd_flags")]);
        r.Add("close_range", c => [c.Fd(0), MaxFd(c.UInt(1)), c.Flags(2, "close_range_flags")]);
        r.Add("getrandom", c => [c.Ptr(0), c.UDec(1), c.Flags(2, "getrandom_flags")]);
        // Path arguments with generic names in the kernel's signatures.
        r.Add("name_to_handle_at", c => [c.Dirfd(0), c.Path(1), c.Ptr(2), c.Ptr(3), c.Flags(4, "at_flags")],
              s => s.Path(1));
        r.Add("acct", c => [c.Path(0)], s => s.Path(0));
        // unlink, rename, renameat, mkdir, mkdirat, rmdir, link, symlink, symlinkat, chmod, fchmod,
        // fchmodat, chown, lchown, fchown, readlink(at), truncate, ftruncate, chdir, fchdir, chroot,
        // getcwd, getxattr, removexattr: the default notation from their declared types.
    }

    private static string MaxFd(uint v) => v == uint.MaxValue ? "~0U" : Fmt.UInt(v);

    /// <summary>mknod: the mode with its file type; the device only for character and block devices.</summary>
    private static string[] MknodArgs(string[] head, uint mode, uint dev)
    {
        var type = FileTypes.Lookup(mode & IfMt);
        if (type is "S_IFCHR" or "S_IFBLK")
            return [.. head, Fmt.SymbolicMode(mode), Makedev(dev)];
        return [.. head, Fmt.SymbolicMode(mode)];
    }

    /// <summary>The kernel's 32-bit device encoding (new_decode_dev) as makedev(0x1, 0x3).</summary>
    internal static string Makedev(uint dev)
    {
        uint major = (dev & 0xfff00) >> 8;
        uint minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
        return $"makedev({Fmt.Hex(major)}, {Fmt.Hex(minor)})";
    }

    /// <summary>utimensat's times: [{tv_sec=1, tv_nsec=0}, {tv_sec=0, tv_nsec=UTIME_NOW}], or NULL.</summary>
    private static string Times(Call c, int i)
    {
        if (c[i] == 0) return "NULL";
        if (!c.TryData(i, 2 * Ts.Size, out var d)) return c.Ptr(i);
        return "[" + Timespec(new Mem(d), 0) + ", " + Timespec(new Mem(d), Ts.Size) + "]";
    }

    private static string Timespec(Mem m, int off)
    {
        long sec = m.I64(off + Ts.Off("tv_sec"));
        long nsec = m.I64(off + Ts.Off("tv_nsec"));
        var special = UtimeSpecial.Lookup((ulong)nsec);
        return special is not null
            ? $"{{tv_sec={Fmt.Dec(sec)}, tv_nsec={special}}}"
            : $"{{tv_sec={Fmt.Dec(sec)}, tv_nsec={Fmt.Dec(nsec)}}}";
    }
}
