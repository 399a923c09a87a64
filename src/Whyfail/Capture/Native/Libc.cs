using System.Runtime.InteropServices;

namespace Whyfail.Capture.Native;

/// <summary>The few libc calls .NET does not expose.</summary>
internal static unsafe partial class Libc
{
    private const string Lib = "libc";

    [LibraryImport(Lib, EntryPoint = "vsnprintf")]
    internal static partial int Vsnprintf(byte* buf, nuint size, nint fmt, nint args);

    internal const int PROT_READ = 1, MAP_SHARED = 1;

    [LibraryImport(Lib, EntryPoint = "mmap", SetLastError = true)]
    internal static partial nint Mmap(nint addr, nuint length, int prot, int flags, int fd, long offset);

    [LibraryImport(Lib, EntryPoint = "munmap", SetLastError = true)]
    internal static partial int Munmap(nint addr, nuint length);

    [LibraryImport(Lib, EntryPoint = "getpid")]
    internal static partial int GetPid();

    [LibraryImport(Lib, EntryPoint = "geteuid")]
    internal static partial uint GetEuid();

    [LibraryImport(Lib, EntryPoint = "kill", SetLastError = true)]
    internal static partial int Kill(int pid, int sig);

    [LibraryImport(Lib, EntryPoint = "setgroups", SetLastError = true)]
    internal static partial int SetGroups(nuint size, uint* list);

    [LibraryImport(Lib, EntryPoint = "setresgid", SetLastError = true)]
    internal static partial int SetResGid(uint r, uint e, uint s);

    [LibraryImport(Lib, EntryPoint = "setresuid", SetLastError = true)]
    internal static partial int SetResUid(uint r, uint e, uint s);

    [LibraryImport(Lib, EntryPoint = "execve", SetLastError = true)]
    internal static partial int Execve(byte* path, byte** argv, byte** envp);

    [LibraryImport(Lib, EntryPoint = "prctl", SetLastError = true)]
    internal static partial int Prctl(int option, nuint a2, nuint a3, nuint a4, nuint a5);

    [LibraryImport(Lib, EntryPoint = "read", SetLastError = true)]
    internal static partial nint Read(int fd, byte* buf, nuint count);

    [LibraryImport(Lib, EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(int fd);

    [LibraryImport(Lib, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Open(string path, int flags, int mode);

    [LibraryImport(Lib, EntryPoint = "ftruncate", SetLastError = true)]
    internal static partial int Ftruncate(int fd, long length);

    [LibraryImport(Lib, EntryPoint = "fstat", SetLastError = true)]
    internal static partial int Fstat(int fd, Stat* st);

    [LibraryImport(Lib, EntryPoint = "lstat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Lstat(string path, Stat* st);

    /// <summary>fcntl(fd, F_GETFL/F_SETFL, flags).</summary>
    [LibraryImport(Lib, EntryPoint = "fcntl", SetLastError = true)]
    internal static partial int Fcntl(int fd, int cmd, int arg);
    internal const int F_GETFL = 3, F_SETFL = 4;

    [LibraryImport(Lib, EntryPoint = "getpwnam_r", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int GetPwNamR(string name, Passwd* pwd, byte* buf, nuint buflen, Passwd** result);

    [LibraryImport(Lib, EntryPoint = "getpwuid_r", SetLastError = true)]
    internal static partial int GetPwUidR(uint uid, Passwd* pwd, byte* buf, nuint buflen, Passwd** result);

    [LibraryImport(Lib, EntryPoint = "getgrouplist", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int GetGroupList(string user, uint group, uint* groups, int* ngroups);

    [LibraryImport(Lib, EntryPoint = "strerror")]
    internal static partial nint StrError(int errnum);

    internal static string ErrorText(int errno) => Marshal.PtrToStringUTF8(StrError(errno)) ?? $"errno {errno}";

    [StructLayout(LayoutKind.Sequential)]
    internal struct Passwd
    {
        public nint Name, Passwd_;
        public uint Uid, Gid;
        public nint Gecos, Dir, Shell;
    }

    /// <summary>x86_64 struct stat.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Stat
    {
        public ulong Dev, Ino, Nlink;
        public uint Mode, Uid, Gid;
        private int _pad0;
        public ulong Rdev;
        public long Size, Blksize, Blocks;
        public long Atime, AtimeNsec, Mtime, MtimeNsec, Ctime, CtimeNsec;
        private long _r0, _r1, _r2;
    }

    internal const int O_WRONLY = 1, O_CREAT = 0x40, O_NOFOLLOW = 0x20000, O_CLOEXEC = 0x80000, O_APPEND = 0x400, O_NONBLOCK = 0x800;
    internal const int SIGSTOP = 19, SIGCONT = 18, SIGKILL = 9, SIGINT = 2, SIGTERM = 15;
    internal const int PR_SET_PDEATHSIG = 1;
    internal const uint S_IFMT = 0xF000, S_IFREG = 0x8000, S_IFCHR = 0x2000, S_IFIFO = 0x1000;
}
