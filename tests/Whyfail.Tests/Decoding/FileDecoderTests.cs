using Whyfail.Decoding;
using Whyfail.Events;
using Xunit;
using static Whyfail.Tests.Decoding.Kit;

namespace Whyfail.Tests.Decoding;

public class OpenDecoderTests
{
    [Fact]
    public void OpenatWithoutCreateHasNoMode() =>
        Assert.Equal("openat(AT_FDCWD, \"/etc/x\", O_RDONLY|O_CLOEXEC)",
            Line(Ev("openat", [AtFdcwd, 0x1000, 0x80000, 0x1ff], -2, false, Str(1, "/etc/x"))));

    [Fact]
    public void OpenatWithCreateShowsTheMode() =>
        Assert.Equal("openat(3, \"out.txt\", O_WRONLY|O_CREAT|O_TRUNC, 0644)",
            Line(Ev("openat", [3, 0x1000, 0x241, 0x1a4], -13, false, Str(1, "out.txt"))));

    [Fact]
    public void TmpfileShowsTheModeAndHidesItsDirectoryBit() =>
        Assert.Equal("openat(AT_FDCWD, \"/tmp\", O_RDWR|O_TMPFILE, 0600)",
            Line(Ev("openat", [AtFdcwd, 0x1000, 0x410002, 0x180], -95, false, Str(1, "/tmp"))));

    [Fact]
    public void OpenAndCreat()
    {
        Assert.Equal("open(\"/x\", O_WRONLY|O_CREAT|O_EXCL, 0600)",
            Line(Ev("open", [0x1000, 0xc1, 0x180], -17, false, Str(0, "/x"))));
        Assert.Equal("open(\"/x\", O_RDONLY|O_DIRECTORY|O_NOFOLLOW)",
            Line(Ev("open", [0x1000, 0x30000, 0], -20, false, Str(0, "/x"))));
        Assert.Equal("creat(\"/ro/f\", 0644)", Line(Ev("creat", [0x1000, 0x1a4], -30, false, Str(0, "/ro/f"))));
    }

    [Fact]
    public void UnknownFlagBitsAreHex() =>
        Assert.Equal("openat(AT_FDCWD, \"/x\", O_RDONLY|0x40000000)",
            Line(Ev("openat", [AtFdcwd, 0x1000, 0x40000000, 0], -22, false, Str(1, "/x"))));

    [Fact]
    public void PathPointerStates()
    {
        // unreadable (EFAULT): the pointer, like strace
        Assert.Equal("openat(AT_FDCWD, 0xdead, O_RDONLY)",
            Line(Ev("openat", [AtFdcwd, 0xdead, 0, 0], -14, false, Unreadable(1, CaptureKind.String))));
        Assert.Equal("openat(AT_FDCWD, NULL, O_RDONLY)", Line(Ev("openat", [AtFdcwd, 0, 0, 0], -14)));
        // not captured at all
        Assert.Equal("openat(AT_FDCWD, 0x1000, O_RDONLY)", Line(Ev("openat", [AtFdcwd, 0x1000, 0, 0], -2)));
    }

    [Fact]
    public void PathsAreNotLimitedByTheStringLimit()
    {
        var path = "/" + new string('a', 200);
        Assert.Equal($"openat(AT_FDCWD, \"{path}\", O_RDONLY)",
            Line(Ev("openat", [AtFdcwd, 0x1000, 0, 0], -2, false, Str(1, path)), limit: 8));
    }

    [Fact]
    public void APathCutAtTheCaptureCapEndsWithDots()
    {
        var path = new string('p', CaptureSpec.PathSize - 1);
        var args = Raw(Ev("openat", [AtFdcwd, 0x1000, 0, 0], -36, true, Str(1, path)));
        Assert.EndsWith("\"...", args[1]);
        // the same length without the truncation flag is a complete path
        Assert.EndsWith("p\"", Raw(Ev("openat", [AtFdcwd, 0x1000, 0, 0], -36, false, Str(1, path)))[1]);
    }

    [Fact]
    public void HostilePathsCannotReachTheTerminal() =>
        Assert.Equal("openat(AT_FDCWD, \"/tmp/\\33]0;x\\7\\342\\200\\256\", O_RDONLY)",
            Line(Ev("openat", [AtFdcwd, 0x1000, 0, 0], -2, false, Str(1, "/tmp/\u001b]0;x\u0007\u202e"))));

    private static byte[] OpenHow(ulong flags, ulong mode, ulong resolve) =>
        new StructBytes(24).U64(0, flags).U64(8, mode).U64(16, resolve).Bytes;

    [Fact]
    public void Openat2DecodesOpenHow()
    {
        Assert.Equal("openat2(AT_FDCWD, \"/x\", {flags=O_RDONLY|O_CLOEXEC, resolve=RESOLVE_NO_SYMLINKS|RESOLVE_BENEATH}, 24)",
            Line(Ev("openat2", [AtFdcwd, 0x1000, 0x2000, 24], -40, false, Str(1, "/x"), Sized(2, OpenHow(0x80000, 0, 0x0c)))));
        Assert.Equal("openat2(3, \"f\", {flags=O_WRONLY|O_CREAT, mode=0640, resolve=0}, 24)",
            Line(Ev("openat2", [3, 0x1000, 0x2000, 24], -13, false, Str(1, "f"), Sized(2, OpenHow(0x41, 0x1a0, 0)))));
        // a struct shorter than the first version cannot be decoded: the pointer
        Assert.Equal("openat2(3, \"f\", 0x2000, 16)",
            Line(Ev("openat2", [3, 0x1000, 0x2000, 16], -22, false, Str(1, "f"), Sized(2, new byte[16]))));
    }
}

public class StatAndAccessDecoderTests
{
    [Fact]
    public void StatFamily()
    {
        Assert.Equal("stat(\"/x\", 0x7ffd0000)", Line(Ev("stat", [0x1000, 0x7ffd0000], -2, false, Str(0, "/x"))));
        Assert.Equal("lstat(\"/x\", 0x7ffd0000)", Line(Ev("lstat", [0x1000, 0x7ffd0000], -2, false, Str(0, "/x"))));
        Assert.Equal("fstat(-1, 0x7ffd0000)", Line(Ev("fstat", [0xffffffff, 0x7ffd0000], -9)));
        Assert.Equal("newfstatat(AT_FDCWD, \"/x\", 0x7ffd0000, AT_SYMLINK_NOFOLLOW)",
            Line(Ev("newfstatat", [AtFdcwd, 0x1000, 0x7ffd0000, 0x100], -2, false, Str(1, "/x"))));
        Assert.Equal("newfstatat(5, \"\", 0x7ffd0000, AT_EMPTY_PATH)",
            Line(Ev("newfstatat", [5, 0x1000, 0x7ffd0000, 0x1000], -9, false, Str(1, ""))));
        Assert.Equal("statx(AT_FDCWD, \"/x\", AT_STATX_SYNC_AS_STAT, STATX_TYPE|STATX_MODE, 0x7ffd0000)",
            Line(Ev("statx", [AtFdcwd, 0x1000, 0, 3, 0x7ffd0000], -2, false, Str(1, "/x"))));
        Assert.Equal("statx(AT_FDCWD, \"/x\", AT_STATX_DONT_SYNC|AT_SYMLINK_NOFOLLOW, STATX_ALL, 0x7ffd0000)",
            Line(Ev("statx", [AtFdcwd, 0x1000, 0x4100, 0xfff, 0x7ffd0000], -2, false, Str(1, "/x"))));
        Assert.Equal("statfs(\"/mnt\", 0x7ffd0000)", Line(Ev("statfs", [0x1000, 0x7ffd0000], -2, false, Str(0, "/mnt"))));
    }

    [Fact]
    public void AccessModes()
    {
        Assert.Equal("access(\"/x\", F_OK)", Line(Ev("access", [0x1000, 0], -2, false, Str(0, "/x"))));
        Assert.Equal("access(\"/x\", R_OK|W_OK)", Line(Ev("access", [0x1000, 6], -13, false, Str(0, "/x"))));
        Assert.Equal("faccessat(AT_FDCWD, \"/bin/sh\", X_OK)",
            Line(Ev("faccessat", [AtFdcwd, 0x1000, 1], -13, false, Str(1, "/bin/sh"))));
        Assert.Equal("faccessat2(AT_FDCWD, \"/x\", R_OK, AT_EACCESS)",
            Line(Ev("faccessat2", [AtFdcwd, 0x1000, 4, 0x200], -13, false, Str(1, "/x"))));
        Assert.Equal("access(\"/x\", 0x10)", Line(Ev("access", [0x1000, 0x10], -22, false, Str(0, "/x"))));
    }
}

public class FileOpsDecoderTests
{
    [Fact]
    public void NameOperations()
    {
        Assert.Equal("unlink(\"/x\")", Line(Ev("unlink", [0x1000], -2, false, Str(0, "/x"))));
        Assert.Equal("unlinkat(3, \"d\", AT_REMOVEDIR)", Line(Ev("unlinkat", [3, 0x1000, 0x200], -39, false, Str(1, "d"))));
        Assert.Equal("unlinkat(AT_FDCWD, \"f\", 0)", Line(Ev("unlinkat", [AtFdcwd, 0x1000, 0], -2, false, Str(1, "f"))));
        Assert.Equal("rename(\"a\", \"b\")", Line(Ev("rename", [1, 2], -18, false, Str(0, "a"), Str(1, "b"))));
        Assert.Equal("renameat(AT_FDCWD, \"a\", 4, \"b\")",
            Line(Ev("renameat", [AtFdcwd, 1, 4, 2], -2, false, Str(1, "a"), Str(3, "b"))));
        Assert.Equal("renameat2(AT_FDCWD, \"a\", AT_FDCWD, \"b\", RENAME_NOREPLACE)",
            Line(Ev("renameat2", [AtFdcwd, 1, AtFdcwd, 2, 1], -17, false, Str(1, "a"), Str(3, "b"))));
        Assert.Equal("mkdir(\"/d\", 0755)", Line(Ev("mkdir", [1, 0x1ed], -17, false, Str(0, "/d"))));
        Assert.Equal("mkdirat(AT_FDCWD, \"d\", 0700)", Line(Ev("mkdirat", [AtFdcwd, 1, 0x1c0], -2, false, Str(1, "d"))));
        Assert.Equal("rmdir(\"/d\")", Line(Ev("rmdir", [1], -39, false, Str(0, "/d"))));
        Assert.Equal("link(\"a\", \"b\")", Line(Ev("link", [1, 2], -18, false, Str(0, "a"), Str(1, "b"))));
        Assert.Equal("linkat(AT_FDCWD, \"a\", AT_FDCWD, \"b\", AT_SYMLINK_FOLLOW)",
            Line(Ev("linkat", [AtFdcwd, 1, AtFdcwd, 2, 0x400], -2, false, Str(1, "a"), Str(3, "b"))));
        Assert.Equal("symlink(\"target\", \"/l\")", Line(Ev("symlink", [1, 2], -17, false, Str(0, "target"), Str(1, "/l"))));
        Assert.Equal("symlinkat(\"t\", AT_FDCWD, \"l\")", Line(Ev("symlinkat", [1, AtFdcwd, 2], -17, false, Str(0, "t"), Str(2, "l"))));
        Assert.Equal("readlink(\"/x\", 0x7ffd0000, 4096)", Line(Ev("readlink", [1, 0x7ffd0000, 4096], -22, false, Str(0, "/x"))));
        Assert.Equal("truncate(\"/x\", 100)", Line(Ev("truncate", [1, 100], -27, false, Str(0, "/x"))));
        Assert.Equal("ftruncate(3, -1)", Line(Ev("ftruncate", [3, ulong.MaxValue], -22)));
        Assert.Equal("chdir(\"/nope\")", Line(Ev("chdir", [1], -2, false, Str(0, "/nope"))));
        Assert.Equal("chroot(\"/jail\")", Line(Ev("chroot", [1], -1, false, Str(0, "/jail"))));
        Assert.Equal("acct(\"/var/log/acct\")", Line(Ev("acct", [1], -1, false, Str(0, "/var/log/acct"))));
    }

    [Fact]
    public void ModesAndOwners()
    {
        Assert.Equal("chmod(\"/x\", 04755)", Line(Ev("chmod", [1, 0x9ed], -1, false, Str(0, "/x"))));
        Assert.Equal("fchmod(3, 0644)", Line(Ev("fchmod", [3, 0x1a4], -1)));
        Assert.Equal("fchmodat(AT_FDCWD, \"x\", 000)", Line(Ev("fchmodat", [AtFdcwd, 1, 0], -1, false, Str(1, "x"))));
        Assert.Equal("fchmodat2(AT_FDCWD, \"x\", 0600, AT_SYMLINK_NOFOLLOW)",
            Line(Ev("fchmodat2", [AtFdcwd, 1, 0x180, 0x100], -95, false, Str(1, "x"))));
        Assert.Equal("umask(022)", Line(Ev("umask", [0x12], -1)));
        Assert.Equal("chown(\"/x\", -1, 100)", Line(Ev("chown", [1, 0xffffffff, 100], -1, false, Str(0, "/x"))));
        Assert.Equal("fchownat(AT_FDCWD, \"/x\", 1000, -1, AT_SYMLINK_NOFOLLOW)",
            Line(Ev("fchownat", [AtFdcwd, 1, 1000, 0xffffffff, 0x100], -1, false, Str(1, "/x"))));
    }

    [Fact]
    public void Mknod()
    {
        // S_IFCHR|0600, device 1:3 in the kernel's 32-bit encoding
        Assert.Equal("mknod(\"/dev/null2\", S_IFCHR|0600, makedev(0x1, 0x3))",
            Line(Ev("mknod", [1, 0x2180, 0x103], -1, false, Str(0, "/dev/null2"))));
        Assert.Equal("mknodat(AT_FDCWD, \"fifo\", S_IFIFO|0644)",
            Line(Ev("mknodat", [AtFdcwd, 1, 0x11a4, 0], -17, false, Str(1, "fifo"))));
        // major 0x103, minor 0x12345: new_encode_dev keeps the low minor byte at the bottom
        Assert.Equal("mknod(\"b\", S_IFBLK|S_ISUID|0660, makedev(0x103, 0x12345))",
            Line(Ev("mknod", [1, 0x69b0, 0x12310345], -1, false, Str(0, "b"))));
    }

    private static byte[] Timespecs(long s1, long ns1, long s2, long ns2) =>
        new StructBytes(32).I64(0, s1).I64(8, ns1).I64(16, s2).I64(24, ns2).Bytes;

    [Fact]
    public void Utimensat()
    {
        const long utimeNow = (1L << 30) - 1, utimeOmit = (1L << 30) - 2;
        Assert.Equal("utimensat(AT_FDCWD, \"/x\", [UTIME_NOW, UTIME_OMIT], 0)",
            Line(Ev("utimensat", [AtFdcwd, 1, 2, 0], -1, false, Str(1, "/x"), Fixed(2, Timespecs(0, utimeNow, 0, utimeOmit)))));
        // A valid time carries strace's calendar comment, in the local time zone.
        Assert.Matches(@"^utimensat\(3, NULL, \[\{tv_sec=1700000000, tv_nsec=5\} /\* 2023-11-1[45]T\d\d:\d\d:20\.000000005[+-]\d{4} \*/, " +
                       @"\{tv_sec=-1, tv_nsec=999999999\} /\* 19(69|70)-\d\d-\d\dT\d\d:\d\d:59\.999999999[+-]\d{4} \*/\], AT_EMPTY_PATH\)$",
            Line(Ev("utimensat", [3, 0, 2, 0x1000], -22, false, Fixed(2, Timespecs(1700000000, 5, -1, 999999999)))));
        Assert.Equal("utimensat(AT_FDCWD, \"/x\", NULL, 0)", Line(Ev("utimensat", [AtFdcwd, 1, 0, 0], -1, false, Str(1, "/x"))));
        Assert.Equal("utimensat(AT_FDCWD, \"/x\", 0xbad, 0)",
            Line(Ev("utimensat", [AtFdcwd, 1, 0xbad, 0], -14, false, Str(1, "/x"), Unreadable(2))));
    }

    [Fact]
    public void Others()
    {
        Assert.Equal("flock(3, LOCK_EX|LOCK_NB)", Line(Ev("flock", [3, 6], -11)));
        Assert.Equal("lseek(3, -1, SEEK_END)", Line(Ev("lseek", [3, ulong.MaxValue, 2], -22)));
        Assert.Equal("lseek(3, 0, 0x7 /* SEEK_??? */)", Line(Ev("lseek", [3, 0, 7], -22)));
        Assert.Equal("fallocate(3, FALLOC_FL_KEEP_SIZE|FALLOC_FL_PUNCH_HOLE, 0, 4096)", Line(Ev("fallocate", [3, 3, 0, 4096], -95)));
        Assert.Equal("setxattr(\"/x\", \"user.k\", \"val\", 3, XATTR_CREATE)",
            Line(Ev("setxattr", [1, 2, 3, 3, 1], -17, false, Str(0, "/x"), Str(1, "user.k"), Sized(2, "val"u8.ToArray()))));
        Assert.Equal("getxattr(\"/x\", \"user.k\", 0x7ffd0000, 64)",
            Line(Ev("getxattr", [1, 2, 0x7ffd0000, 64], -61, false, Str(0, "/x"), Str(1, "user.k"))));
        Assert.Equal("memfd_create(\"buf\", MFD_CLOEXEC|MFD_ALLOW_SEALING)", Line(Ev("memfd_create", [1, 3], -24, false, Str(0, "buf"))));
        Assert.Equal("close_range(3, ~0U, CLOSE_RANGE_CLOEXEC)", Line(Ev("close_range", [3, 0xffffffff, 4], -22)));
        Assert.Equal("getrandom(0x7ffd0000, 16, GRND_NONBLOCK)", Line(Ev("getrandom", [0x7ffd0000, 16, 1], -11)));
        Assert.Equal("name_to_handle_at(AT_FDCWD, \"/x\", 0x1, 0x2, 0)",
            Line(Ev("name_to_handle_at", [AtFdcwd, 9, 1, 2, 0], -95, false, Str(1, "/x"))));
    }
}

public class ReadWriteDecoderTests
{
    [Fact]
    public void ReadsShowThePointer() =>
        Assert.Equal("read(3, 0x7ffd0000, 4096)", Line(Ev("read", [3, 0x7ffd0000, 4096], -11)));

    [Fact]
    public void WritesShowTheData()
    {
        Assert.Equal("write(1, \"hello\\n\", 6)", Line(Ev("write", [1, 0x1000, 6], -32, false, Sized(1, "hello\n"u8.ToArray()))));
        Assert.Equal("pwrite64(3, \"abc\", 3, 100)", Line(Ev("pwrite64", [3, 0x1000, 3, 100], -28, false, Sized(1, "abc"u8.ToArray()))));
    }

    [Fact]
    public void WritesAreLimitedAndMarkedWhenLonger()
    {
        var data = new byte[CaptureSpec.BufferSize];
        Array.Fill(data, (byte)'x');
        // limit shorter than the capture
        Assert.Equal("write(1, \"xxxx\"..., 10000)", Line(Ev("write", [1, 0x1000, 10000], -28, false, Sized(1, data, 10000)), limit: 4));
        // capture shorter than what was written: cut at the cap
        Assert.EndsWith("x\"..., 10000)", Line(Ev("write", [1, 0x1000, 10000], -28, false, Sized(1, data, 10000)), limit: 100000));
        // a terminal escape in the data stays escaped
        Assert.Equal("write(2, \"\\33[2J\", 4)", Line(Ev("write", [2, 0x1000, 4], -5, false, Sized(1, "\u001b[2J"u8.ToArray()))));
        Assert.Equal("write(2, 0x1000, 4)", Line(Ev("write", [2, 0x1000, 4], -14, false, Unreadable(1, CaptureKind.Sized))));
    }

    [Fact]
    public void Descriptors()
    {
        Assert.Equal("close(-1)", Line(Ev("close", [0xffffffff], -9)));
        Assert.Equal("dup(99)", Line(Ev("dup", [99], -9)));
        Assert.Equal("dup2(3, 1)", Line(Ev("dup2", [3, 1], -9)));
        Assert.Equal("dup3(3, 3, O_CLOEXEC)", Line(Ev("dup3", [3, 3, 0x80000], -22)));
        Assert.Equal("pipe2(0x7ffd0000, O_NONBLOCK|O_CLOEXEC)", Line(Ev("pipe2", [0x7ffd0000, 0x80800], -24)));
        Assert.Equal("readv(3, 0x7ffd0000, 2)", Line(Ev("readv", [3, 0x7ffd0000, 2], -9)));
    }
}

public class FcntlIoctlDecoderTests
{
    [Fact]
    public void CommandsAndTheirArguments()
    {
        Assert.Equal("fcntl(3, F_GETFD)", Line(Ev("fcntl", [3, 1, 0], -9)));
        Assert.Equal("fcntl(3, F_SETFD, FD_CLOEXEC)", Line(Ev("fcntl", [3, 2, 1], -9)));
        Assert.Equal("fcntl(3, F_SETFL, O_RDONLY|O_NONBLOCK)", Line(Ev("fcntl", [3, 4, 0x800], -9)));
        Assert.Equal("fcntl(3, F_DUPFD_CLOEXEC, 10)", Line(Ev("fcntl", [3, 1030, 10], -24)));
        Assert.Equal("fcntl(3, F_SETSIG, SIGIO)", Line(Ev("fcntl", [3, 10, 29], -22)));
        Assert.Equal("fcntl(3, F_SETLEASE, F_WRLCK)", Line(Ev("fcntl", [3, 1024, 1], -11)));
        Assert.Equal("fcntl(3, F_ADD_SEALS, F_SEAL_SHRINK|F_SEAL_GROW)", Line(Ev("fcntl", [3, 1033, 6], -1)));
        Assert.Equal("fcntl(3, 0x270f /* F_??? */, 0x5)", Line(Ev("fcntl", [3, 9999, 5], -22)));
    }

    private static readonly byte[] WriteLock = new StructBytes(32).U16(0, 1).U16(2, 0).I64(8, 0).I64(16, 100).Bytes;

    [Fact]
    public void LockCommandsDecodeStructFlock()
    {
        Assert.Equal("fcntl(3, F_SETLKW, {l_type=F_WRLCK, l_whence=SEEK_SET, l_start=0, l_len=100})",
            Line(Ev("fcntl", [3, 7, 0x7ffd0000], -35, false, Fixed(2, WriteLock))));
        Assert.Equal("fcntl(3, F_OFD_SETLK, 0x7ffd0000)",
            Line(Ev("fcntl", [3, 37, 0x7ffd0000], -11, false, Unreadable(2))));
        Assert.Equal("fcntl(3, F_GETLK, 0x7ffd0000)",
            Line(Ev("fcntl", [3, 5, 0x7ffd0000], -22, false, Fixed(2, new byte[8]))));
    }

    [CompilerFact]
    public void StructFlockMatchesTheCompilersLayout()
    {
        var bytes = CStruct.Bytes("#include <linux/fcntl.h>", "struct flock",
            "s.l_type = F_RDLCK; s.l_whence = SEEK_END; s.l_start = -10; s.l_len = 20; s.l_pid = 77;");
        Assert.Equal("fcntl(3, F_GETLK, {l_type=F_RDLCK, l_whence=SEEK_END, l_start=-10, l_len=20, l_pid=77})",
            Line(Ev("fcntl", [3, 5, 0x7ffd0000], -22, false, Fixed(2, bytes))));
    }

    [Fact]
    public void OwnerEx() =>
        Assert.Equal("fcntl(3, F_SETOWN_EX, {type=F_OWNER_PID, pid=42})",
            Line(Ev("fcntl", [3, 15, 0x7ffd0000], -3, false, Fixed(2, new StructBytes(32).U32(0, 1).I32(4, 42).Bytes))));

    [Theory]
    [InlineData(0x5401u, "TCGETS")]
    [InlineData(0x5413u, "TIOCGWINSZ")]
    [InlineData(0x541bu, "FIONREAD")]
    [InlineData(0x5421u, "FIONBIO")]
    [InlineData(0x80086601u, "FS_IOC_GETFLAGS")]
    [InlineData(0x80081272u, "BLKGETSIZE64")]
    [InlineData(0x2400u, "PERF_EVENT_IOC_ENABLE")]
    [InlineData(0x80085413u, "_IOC(_IOC_READ, 0x54, 0x13, 0x8)")]
    [InlineData(0xc0187f99u, "_IOC(_IOC_READ|_IOC_WRITE, 0x7f, 0x99, 0x18)")]
    [InlineData(0x40047f01u, "_IOC(_IOC_WRITE, 0x7f, 0x1, 0x4)")]
    [InlineData(0x0000ab01u, "_IOC(_IOC_NONE, 0xab, 0x1, 0)")]
    public void IoctlRequests(uint request, string expected) =>
        Assert.Equal($"ioctl(1, {expected}, 0x7ffd0000)", Line(Ev("ioctl", [1, request, 0x7ffd0000], -25)));

    [Fact]
    public void IoctlRequestIs32Bit() =>
        Assert.Equal("ioctl(1, TCGETS, 0x1)", Line(Ev("ioctl", [1, 0xffffffff00005401, 1], -25)));

    [Fact]
    public void AZeroArgumentOfANamedRequestIsNull()
    {
        // As strace prints them (tests/ioctl_sock.c, ioctl_block.c): the pointer of a request it knows.
        Assert.Equal("ioctl(-1, FIOSETOWN, NULL)", Line(Ev("ioctl", [0xffffffff, 0x8901, 0], -9)));
        Assert.Equal("ioctl(-1, _IOC(_IOC_NONE, 0xab, 0x1, 0), 0)", Line(Ev("ioctl", [0xffffffff, 0xab01, 0], -9)));
    }
}

public class InotifyAndMountDecoderTests
{
    [Fact]
    public void Inotify()
    {
        Assert.Equal("inotify_add_watch(3, \"/tmp\", IN_MODIFY|IN_CREATE|IN_DELETE)",
            Line(Ev("inotify_add_watch", [3, 1, 0x302], -28, false, Str(1, "/tmp"))));
        Assert.Equal("inotify_add_watch(3, \"/d\", IN_ONLYDIR|IN_MASK_CREATE|IN_ONESHOT)",
            Line(Ev("inotify_add_watch", [3, 1, 0x91000000], -17, false, Str(1, "/d"))));
        Assert.Equal("inotify_init1(IN_NONBLOCK|IN_CLOEXEC)", Line(Ev("inotify_init1", [0x80800], -24)));
        Assert.Equal("inotify_rm_watch(3, 7)", Line(Ev("inotify_rm_watch", [3, 7], -22)));
    }

    [Fact]
    public void NewMountApi()
    {
        // As strace 6.1 prints them for its tests/fsmount.c, fsconfig.c and mount_setattr.c.
        Assert.Equal("fsmount(-1, 0, MOUNT_ATTR_RDONLY)", Line(Ev("fsmount", [0xffffffff, 0, 1], -9)));
        Assert.Equal("fsmount(-1, FSMOUNT_CLOEXEC|0xfffffffe, MOUNT_ATTR_RDONLY|MOUNT_ATTR_NOSUID|MOUNT_ATTR_NODEV|MOUNT_ATTR_NOEXEC|" +
                     "MOUNT_ATTR_NOATIME|MOUNT_ATTR_STRICTATIME|MOUNT_ATTR_NODIRATIME)",
            Line(Ev("fsmount", [0xffffffff, 0xffffffff, 0xbf], -9)));
        Assert.StartsWith("fsconfig(3, FSCONFIG_SET_BINARY, ", Line(Ev("fsconfig", [3, 2, 0, 0, 0], -22)));
        Assert.StartsWith("fsconfig(3, 0xfacefeed /* FSCONFIG_??? */, ", Line(Ev("fsconfig", [3, 0xfacefeed, 0, 0, 0], -22)));
        Assert.Equal("mount_setattr(-1, NULL, AT_SYMLINK_NOFOLLOW, 0x7ffff7fb7000, 4294967295)",
            Line(Ev("mount_setattr", [0xffffffff, 0, 0x100, 0x7ffff7fb7000, 0xffffffff], -7)));
    }

    [Fact]
    public void Mount()
    {
        Assert.Equal("mount(\"tmpfs\", \"/mnt\", \"tmpfs\", MS_NOSUID|MS_NODEV, \"size=1m\")",
            Line(Ev("mount", [1, 2, 3, 6, 4], -1, false, Str(0, "tmpfs"), Str(1, "/mnt"), Str(2, "tmpfs"), Str(4, "size=1m"))));
        Assert.Equal("mount(\"/a\", \"/b\", NULL, MS_BIND|MS_REC, NULL)",
            Line(Ev("mount", [1, 2, 0, 0x5000, 0], -2, false, Str(0, "/a"), Str(1, "/b"))));
        Assert.Equal("mount(\"/dev/sda1\", \"/mnt\", \"ext4\", MS_MGC_VAL|MS_RDONLY, NULL)",
            Line(Ev("mount", [1, 2, 3, 0xc0ed0001, 0], -1, false, Str(0, "/dev/sda1"), Str(1, "/mnt"), Str(2, "ext4"))));
        Assert.Equal("umount2(\"/mnt\", MNT_DETACH)", Line(Ev("umount2", [1, 2], -16, false, Str(0, "/mnt"))));
        Assert.Equal("umount2(\"/mnt\", 0)", Line(Ev("umount2", [1, 0], -16, false, Str(0, "/mnt"))));
    }
}
