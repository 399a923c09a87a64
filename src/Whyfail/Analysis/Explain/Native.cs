using System.Runtime.InteropServices;
using System.Text;
using Whyfail.Capture.Native;

namespace Whyfail.Analysis.Explain;

/// <summary>File type, from the S_IFMT bits.</summary>
public enum FileKind { Unknown, Regular, Directory, Symlink, CharDevice, BlockDevice, Fifo, Socket }

/// <summary>What lstat/statx said about one file.</summary>
/// <param name="Mode">Permission bits including set-uid, set-gid and sticky (mode &amp; 07777).</param>
/// <param name="MountId">The mount id (as in mountinfo), 0 when the kernel did not say.</param>
/// <param name="Attributes">statx attributes (STATX_ATTR_IMMUTABLE 0x10, STATX_ATTR_APPEND 0x20, …).</param>
public readonly record struct FileStat(FileKind Kind, uint Mode, uint Uid, uint Gid, ulong Ino, uint DevMajor, uint DevMinor,
    ulong Size, uint Nlink, ulong MountId, ulong Attributes)
{
    public bool Immutable => (Attributes & 0x10) != 0;
    public bool AppendOnly => (Attributes & 0x20) != 0;
    public bool SameFile(in FileStat o) => Ino == o.Ino && DevMajor == o.DevMajor && DevMinor == o.DevMinor;
}

/// <summary>statvfs numbers of a file system.</summary>
public readonly record struct FsUsage(ulong BlockSize, ulong Blocks, ulong BlocksFree, ulong BlocksAvailable,
    ulong Files, ulong FilesFree, ulong FilesAvailable, ulong NameMax);

/// <summary>The few libc calls the explanation code needs (all of them only look; none changes anything).</summary>
internal static unsafe class Native
{


    /// <summary>CLOCK_BOOTTIME minus CLOCK_MONOTONIC now (time spent suspended), in ns.</summary>
    public static long SuspendedNs()
    {
        long* a = stackalloc long[2];
        long* b = stackalloc long[2];
        if (Libc.ClockGetTime(7, a) != 0 || Libc.ClockGetTime(1, b) != 0) return 0;
        return (a[0] - b[0]) * 1_000_000_000 + (a[1] - b[1]);
    }

    private static byte[] Z(string s)
    {
        var n = Encoding.UTF8.GetByteCount(s);
        var b = new byte[n + 1];
        Encoding.UTF8.GetBytes(s, b);
        return b;
    }

    /// <summary>stat (follow) or lstat (no follow) a path; returns 0 or the errno.</summary>
    public static int Stat(string path, out FileStat st, bool follow = false)
    {
        st = default;
        byte* buf = stackalloc byte[256];
        new Span<byte>(buf, 256).Clear();
        var p = Z(path);
        int r;
        fixed (byte* pp = p) r = Libc.Statx(Libc.AT_FDCWD, pp, follow ? 0 : Libc.AT_SYMLINK_NOFOLLOW, Libc.STATX_BASIC_STATS | Libc.STATX_MNT_ID, buf);
        if (r != 0) return Marshal.GetLastPInvokeError();
        uint mask = *(uint*)buf;
        ushort mode = *(ushort*)(buf + 28);
        var kind = (mode & 0xF000) switch
        {
            0x8000 => FileKind.Regular, 0x4000 => FileKind.Directory, 0xA000 => FileKind.Symlink,
            0x2000 => FileKind.CharDevice, 0x6000 => FileKind.BlockDevice, 0x1000 => FileKind.Fifo,
            0xC000 => FileKind.Socket, _ => FileKind.Unknown,
        };
        st = new FileStat(kind, (uint)(mode & 0xFFF), *(uint*)(buf + 20), *(uint*)(buf + 24), *(ulong*)(buf + 32),
            *(uint*)(buf + 136), *(uint*)(buf + 140), *(ulong*)(buf + 40), *(uint*)(buf + 16),
            (mask & Libc.STATX_MNT_ID) != 0 ? *(ulong*)(buf + 144) : 0, *(ulong*)(buf + 8));
        return 0;
    }

    public static string? ReadLink(string path)
    {
        var p = Z(path);
        var buf = new byte[4096];
        nint n;
        fixed (byte* pp = p) fixed (byte* bp = buf) n = Libc.Readlink(pp, bp, buf.Length);
        return n < 0 ? null : Encoding.UTF8.GetString(buf, 0, (int)n);
    }

    /// <summary>An extended attribute of the file itself (not following a final symlink), or null.</summary>
    public static byte[]? GetXattr(string path, string name)
    {
        var p = Z(path);
        var nm = Z(name);
        var buf = new byte[1024];
        nint n;
        fixed (byte* pp = p) fixed (byte* np = nm) fixed (byte* bp = buf) n = Libc.LGetXattr(pp, np, bp, buf.Length);
        return n < 0 ? null : buf.AsSpan(0, (int)n).ToArray();
    }

    public static FsUsage? StatVfs(string path)
    {
        var p = Z(path);
        byte* b = stackalloc byte[128];
        int r;
        fixed (byte* pp = p) r = Libc.Statvfs(pp, b);
        if (r != 0) return null;
        ulong U(int i) => *(ulong*)(b + 8 * i);
        // struct statvfs (x86_64 glibc): bsize, frsize, blocks, bfree, bavail, files, ffree, favail, fsid, flag, namemax
        return new FsUsage(U(1) != 0 ? U(1) : U(0), U(2), U(3), U(4), U(5), U(6), U(7), U(10));
    }
}
