namespace Whyfail.Decoding;

/// <summary>
/// Operations on names and inodes: unlink, rename, mkdir, rmdir, link, symlink, chmod, chown,
/// utimensat, utimes, futimesat, utime, mknod, readlink, truncate, chdir, chroot, umask, flock, fallocate, lseek, xattrs,
/// memfd_create, close_range, getrandom, acct, name_to_handle_at, ustat, splice, tee, copy_file_range, sendfile,
/// sync_file_range, fadvise64.
/// </summary>
internal static class FileOpsFamily
{
    private static readonly StructLayout Ts = Xlat.Struct("kernel_timespec");
    private static readonly XlatTable UtimeSpecial = Xlat.Table("utime_special");
    private static readonly XlatTable FileTypes = Xlat.Table("file_types");
    private static readonly uint IfMt = (uint)Xlat.Table("mode_bits")["S_IFMT"];

    public static void Register(Registry r)
    {
        // unlinkat and linkat: strace shows every AT_ flag by name (at_flags_all, AT_REMOVEDIR included).
        r.Add("unlinkat", c => [c.Dirfd(0), c.Path(1), c.Flags(2, "at_flags_all")]);
        r.Add("renameat2", c => [c.Dirfd(0), c.Path(1), c.Dirfd(2), c.Path(3), c.Flags(4, "rename_flags")]);
        r.Add("linkat", c => [c.Dirfd(0), c.Path(1), c.Dirfd(2), c.Path(3), c.Flags(4, "at_flags_all")]);
        r.Add("fchownat", c => [c.Dirfd(0), c.Path(1), Fmt.Id(c[2]), Fmt.Id(c[3]), c.Flags(4, "at_flags")]);
        r.Add("fchmodat2", c => [c.Dirfd(0), c.Path(1), c.Octal(2), c.Flags(3, "at_flags")]);
        r.Add("utimensat", c => [c.Dirfd(0), c.Path(1), Times(c, 2), c.Flags(3, "at_flags_all")],
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
        // The kernel reads at most MFD_NAME_MAX_LEN + 1 (250) bytes of the name (mm/memfd.c).
        r.Add("memfd_create", c => [c.Str(0), MemfdFlags(c.UInt(1))], s => s.Str(0, 250));
        r.Add("utimes", c => [c.Path(0), Timevals(c, 1)], s => s.Fixed(1, 2 * TimeFamily.TimevalSize));
        r.Add("futimesat", c => [c.Dirfd(0), c.Path(1), Timevals(c, 2)], s => s.Fixed(2, 2 * TimeFamily.TimevalSize));
        r.Add("utime", c => [c.Path(0), Utimbuf(c, 1)], s => s.Fixed(1, 16));
        r.Add("ustat", c => [Fmt.Makedev(c.UInt(0)), c.Ptr(1)]);
        // Moving data between descriptors: offsets passed by pointer are shown as [value].
        r.Add("splice", c => [c.Fd(0), Loff(c, 1), c.Fd(2), Loff(c, 3), c.UDec(4), c.Flags(5, "splice_flags")],
              s => s.Fixed(1, 8).Fixed(3, 8));
        r.Add("copy_file_range", c => [c.Fd(0), Loff(c, 1), c.Fd(2), Loff(c, 3), c.UDec(4), c.UDec32(5)],
              s => s.Fixed(1, 8).Fixed(3, 8));
        r.Add("tee", c => [c.Fd(0), c.Fd(1), c.UDec(2), c.Flags(3, "splice_flags")]);
        r.Add("sendfile", c => [c.Fd(0), c.Fd(1), Loff(c, 2, unsigned: true), c.UDec(3)], s => s.Fixed(2, 8));
        r.Add("sync_file_range", c => [c.Fd(0), c.LDec(1), c.LDec(2), c.Flags(3, "sync_file_range_flags")]);
        r.Add("fadvise64", c => [c.Fd(0), c.LDec(1), c.UDec(2), c.Enum(3, "fadvise_advice", "POSIX_FADV_???")]);
        r.Add("close_range", c => [c.Fd(0), MaxFd(c.UInt(1)), c.Flags(2, "close_range_flags")]);
        r.Add("getrandom", c => [c.Ptr(0), c.UDec(1), c.Flags(2, "getrandom_flags")]);
        // Path arguments with generic names in the kernel's signatures.
        // The handle's handle_bytes is in/out: copied at entry too, shown "0 => 8" where the kernel wrote back the size it
        // needs (EOVERFLOW), as strace shows it; the mount id is an output (an address on failure).
        r.Add("name_to_handle_at", c => [c.Dirfd(0), c.Path(1), Handle(c, 2), c.Ptr(3), c.Flags(4, "at_flags")],
              s => s.Path(1).Fixed(2, Fh.End("handle_type")).Entry(2, Fh.End("handle_bytes")));
        r.Add("acct", c => [c.Path(0)], s => s.Path(0));
        // unlink, rename, renameat, mkdir, mkdirat, rmdir, link, symlink, symlinkat, chmod, fchmod,
        // fchmodat, chown, lchown, fchown, readlink(at), truncate, ftruncate, chdir, fchdir, chroot,
        // getcwd, getxattr, removexattr: the default notation from their declared types.
    }

    /// <summary>A loff_t passed by pointer: [-1], NULL, or the pointer when it was not read (sendfile's off_t: unsigned, as strace prints it).</summary>
    private static string Loff(Call c, int i, bool unsigned = false)
    {
        if (c[i] == 0) return "NULL";
        if (!c.TryData(i, 8, out var d)) return c.Ptr(i);
        var v = new Mem(d).U64(0);
        return "[" + (unsigned ? Fmt.UDec(v) : Fmt.Dec((long)v)) + "]";
    }

    /// <summary>memfd_create's flags: MFD_ flags, and a huge page size above MFD_HUGE_SHIFT as strace shows it (30&lt;&lt;MFD_HUGE_SHIFT).</summary>
    private static string MemfdFlags(uint flags)
    {
        var huge = Xlat.Table("memfd_huge");
        int shift = (int)huge["MFD_HUGE_SHIFT"];
        uint mask = (uint)huge["MFD_HUGE_MASK"] << shift;
        uint rest = flags & ~mask, size = flags & mask;
        if (size == 0) return Xlat.Table("memfd_flags").Flags(rest);
        var h = $"{size >> shift}<<MFD_HUGE_SHIFT";
        return rest == 0 ? h : Xlat.Table("memfd_flags").Flags(rest) + "|" + h;
    }

    /// <summary>utimes/futimesat: [{tv_sec=…, tv_usec=…} /* date */, {…}], or NULL.</summary>
    private static string Timevals(Call c, int i)
    {
        if (c[i] == 0) return "NULL";
        if (!c.TryData(i, 2 * TimeFamily.TimevalSize, out var d)) return c.Ptr(i);
        var m = new Mem(d);
        return "[" + TimeFamily.TimevalDated(m, 0) + ", " + TimeFamily.TimevalDated(m, TimeFamily.TimevalSize) + "]";
    }

    /// <summary>utime's struct utimbuf (two longs): {actime=1492350678 /* date */, modtime=…}.</summary>
    private static string Utimbuf(Call c, int i)
    {
        if (c[i] == 0) return "NULL";
        if (!c.TryData(i, 16, out var d)) return c.Ptr(i);
        var m = new Mem(d);
        string Field(string name, long sec)
        {
            var when = Arrays.Calendar(sec, 0, 0, 0);
            return name + "=" + Fmt.Dec(sec) + (when is null ? "" : $" /* {when} */");
        }
        return Fmt.Struct([Field("actime", m.I64(0)), Field("modtime", m.I64(8))]);
    }

    private static string MaxFd(uint v) => v == uint.MaxValue ? "~0U" : Fmt.UInt(v);

    /// <summary>mknod: the mode with its file type; the device only for character and block devices.</summary>
    private static string[] MknodArgs(string[] head, uint mode, uint dev)
    {
        mode &= 0xffff; // the kernel reads a umode_t
        var type = FileTypes.Lookup(mode & IfMt);
        if (type is "S_IFCHR" or "S_IFBLK")
            return [.. head, Fmt.SymbolicMode(mode), Fmt.Makedev(dev)];
        return [.. head, Fmt.SymbolicMode(mode)];
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
        long nsec = m.I64(off + Ts.Off("tv_nsec"));
        // UTIME_NOW and UTIME_OMIT stand for the whole timespec (strace's print_timespec_t_utime).
        return UtimeSpecial.Lookup((ulong)nsec) ?? TimeFamily.TimespecDated(m, off);
    }

    private static readonly StructLayout Fh = Xlat.Struct("file_handle");

    /// <summary>name_to_handle_at's struct file_handle: {handle_bytes=0 => 8} (as passed, then as the kernel wrote it back).</summary>
    private static string Handle(Call c, int i)
    {
        var now = c.Data(i);
        var passed = c.AsPassed(i);
        int at = Fh.Off("handle_bytes");
        if (passed is null || !new Mem(passed).Has(at, 4)) return c.Ptr(i);
        uint before = new Mem(passed).U32(at);
        string v = Fmt.UInt(before);
        // The kernel writes the size it needs back on EOVERFLOW only (on success, with the handle itself).
        if (c.FailedWith("EOVERFLOW") && now is not null && new Mem(now).Has(at, 4) && new Mem(now).U32(at) is var after && after != before)
            v += " => " + Fmt.UInt(after);
        return "{handle_bytes=" + v + "}";
    }
}
