using System.Runtime.InteropServices;

namespace Whyfail.Capture.Native;

/// <summary>Every libc call whyfail makes that .NET does not expose: the one place for P/Invoke besides libbpf.</summary>
internal static unsafe partial class Libc
{
    /// <summary>
    /// The soname: "libc" made .NET try ~50 file names (liblibc.so, libc.so in every library directory, the
    /// linker-script libc.so) in each process before finding the loaded libc, twice per run with the launcher.
    /// </summary>
    private const string Lib = "libc.so.6";

    [LibraryImport(Lib, EntryPoint = "vsnprintf")]
    internal static partial int Vsnprintf(byte* buf, nuint size, nint fmt, nint args);


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

    [LibraryImport(Lib, EntryPoint = "getpwnam_r", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int GetPwNamR(string name, Passwd* pwd, byte* buf, nuint buflen, Passwd** result);

    [LibraryImport(Lib, EntryPoint = "getpwuid_r", SetLastError = true)]
    internal static partial int GetPwUidR(uint uid, Passwd* pwd, byte* buf, nuint buflen, Passwd** result);

    [LibraryImport(Lib, EntryPoint = "getgrouplist", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int GetGroupList(string user, uint group, uint* groups, int* ngroups);

    [LibraryImport(Lib, EntryPoint = "strerror")]
    internal static partial nint StrError(int errnum);

    internal static string ErrorText(int errno) => Marshal.PtrToStringUTF8(StrError(errno)) ?? $"errno {errno}";

    // Sockets (the audit netlink socket).
    [LibraryImport(Lib, EntryPoint = "socket", SetLastError = true)]
    internal static partial int Socket(int domain, int type, int protocol);

    [LibraryImport(Lib, EntryPoint = "bind", SetLastError = true)]
    internal static partial int Bind(int fd, byte* addr, int len);

    [LibraryImport(Lib, EntryPoint = "setsockopt", SetLastError = true)]
    internal static partial int SetSockOpt(int fd, int level, int name, void* val, int len);

    [LibraryImport(Lib, EntryPoint = "recv", SetLastError = true)]
    internal static partial nint Recv(int fd, byte* buf, nint len, int flags);

    [LibraryImport(Lib, EntryPoint = "sendto", SetLastError = true)]
    internal static partial nint SendTo(int fd, byte* buf, nint len, int flags, byte* addr, int addrlen);

    [LibraryImport(Lib, EntryPoint = "poll", SetLastError = true)]
    internal static partial int Poll(PollFd* fds, ulong n, int timeout);

    [StructLayout(LayoutKind.Sequential)]
    internal struct PollFd
    {
        public int Fd;
        public short Events, Revents;
    }

    /// <summary>poll(2) events (asm-generic/poll.h).</summary>

    // Time.

    /// <summary>clock_gettime into ts[0] (seconds) and ts[1] (nanoseconds).</summary>
    [LibraryImport(Lib, EntryPoint = "clock_gettime", SetLastError = true)]
    internal static partial int ClockGetTime(int clock, long* ts);

    // Files.
    [LibraryImport(Lib, EntryPoint = "open", SetLastError = true)]
    internal static partial int Open(byte* path, int flags);

    [LibraryImport(Lib, EntryPoint = "write", SetLastError = true)]
    internal static partial nint Write(int fd, void* buf, nint count);

    [LibraryImport(Lib, EntryPoint = "pipe2", SetLastError = true)]
    internal static partial int Pipe2(int* fds, int flags);

    [LibraryImport(Lib, EntryPoint = "ioctl", SetLastError = true)]
    internal static partial int Ioctl(int fd, ulong request, void* arg);

    [LibraryImport(Lib, EntryPoint = "readlink", SetLastError = true)]
    internal static partial nint Readlink(byte* path, byte* buf, nint size);

    [LibraryImport(Lib, EntryPoint = "lgetxattr", SetLastError = true)]
    internal static partial nint LGetXattr(byte* path, byte* name, byte* value, nint size);

    [LibraryImport(Lib, EntryPoint = "statvfs", SetLastError = true)]
    internal static partial int Statvfs(byte* path, byte* buf);

    [LibraryImport(Lib, EntryPoint = "quotactl", SetLastError = true)]
    internal static partial int Quotactl(int cmd, byte* special, int id, byte* addr);


    /// <summary>statx into a raw 256-byte buffer (struct statx).</summary>
    [LibraryImport(Lib, EntryPoint = "statx", SetLastError = true)]
    internal static partial int Statx(int dirfd, byte* path, int flags, uint mask, byte* buf);

    [LibraryImport(Lib, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Statx(int dirfd, string path, int flags, uint mask, out StatxBuffer buffer);

    /// <summary>struct statx (include/uapi/linux/stat.h): the fields whyfail reads.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    internal struct StatxBuffer
    {
        [FieldOffset(0)] public uint Mask;
        [FieldOffset(20)] public uint Uid;
        [FieldOffset(24)] public uint Gid;
        [FieldOffset(28)] public ushort Mode;
        [FieldOffset(32)] public ulong Ino;
        [FieldOffset(144)] public ulong MntId;
    }

    [LibraryImport(Lib, EntryPoint = "fnmatch")]
    internal static partial int Fnmatch(byte* pattern, byte* s, int flags);

    // Processes.
    [LibraryImport(Lib, EntryPoint = "fork", SetLastError = true)]
    internal static partial int Fork();

    /// <summary>posix_spawn(3): returns 0 or the error number (execve's too), not -1 and errno.</summary>
    [LibraryImport(Lib, EntryPoint = "posix_spawn")]
    internal static partial int PosixSpawn(int* pid, byte* path, void* fileActions, void* attr, byte** argv, byte** envp);

    [LibraryImport(Lib, EntryPoint = "setsid", SetLastError = true)]
    internal static partial int Setsid();

    [LibraryImport(Lib, EntryPoint = "waitpid", SetLastError = true)]
    internal static partial int WaitPid(int pid, int* status, int options);

    [LibraryImport(Lib, EntryPoint = "signal")]
    internal static partial nint Signal(int sig, nint handler);

    // glibc declares ptrace variadic; on x86_64 a call with integer arguments only is the same as a fixed one.
    [LibraryImport(Lib, EntryPoint = "ptrace", SetLastError = true)]
    internal static partial nint Ptrace(nint request, int pid, nint addr, nint data);

    [LibraryImport(Lib, EntryPoint = "capset", SetLastError = true)]
    internal static partial int Capset(void* header, void* data);

    [LibraryImport(Lib, EntryPoint = "process_vm_readv", SetLastError = true)]
    internal static partial long ProcessVmReadv(int pid, IoVec* local, ulong liovcnt, IoVec* remote, ulong riovcnt, ulong flags);

    [StructLayout(LayoutKind.Sequential)]
    internal struct IoVec
    {
        public void* Base;
        public nuint Len;
    }

    [LibraryImport(Lib, EntryPoint = "setpriority", SetLastError = true)]
    internal static partial int SetPriority(int which, uint who, int prio);

    /// <summary>The nice value (-20 to 19) of <paramref name="who"/>; -1 is also a nice value: errno says which.</summary>
    [LibraryImport(Lib, EntryPoint = "getpriority", SetLastError = true)]
    internal static partial int GetPriority(int which, uint who);

    [LibraryImport(Lib, EntryPoint = "gettid")]
    internal static partial int GetTid();

    [LibraryImport(Lib, EntryPoint = "syscall", SetLastError = true)]
    internal static partial long Syscall(long nr, long a1, long a2, long a3);

    [LibraryImport(Lib, EntryPoint = "syscall", SetLastError = true)]
    internal static partial long Syscall(long nr, long a1, long a2, void* a3);

    /// <summary>
    /// pidfd_open(2) (Linux ≥ 5.3): a descriptor of <paramref name="pid"/> that polls readable once it has exited, whoever
    /// reaps it; -1 with errno set on failure or where the kernel has none. The number comes from the generated syscall table.
    /// </summary>
    internal static int PidfdOpen(int pid) => (int)Syscall(Nr("pidfd_open"), pid, 0, 0);

    /// <summary>pidfd_getfd(2) (Linux ≥ 5.6): a copy of descriptor <paramref name="fd"/> of the process behind <paramref name="pidfd"/>.</summary>
    internal static int PidfdGetFd(int pidfd, int fd) => (int)Syscall(Nr("pidfd_getfd"), pidfd, fd, 0);

    /// <summary>A system call's number, from the generated syscall table (never typed by hand).</summary>
    internal static long Nr(string name) =>
        Whyfail.Decoding.SyscallTable.TryGetNumber(name, out int nr) ? nr : throw new InvalidOperationException($"{name} is not in the syscall table");

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


    [LibraryImport(Lib, EntryPoint = "mount", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int Mount(string source, string target, string fstype, ulong flags, nint data);

    [LibraryImport(Lib, EntryPoint = "umount2", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int Umount2(string target, int flags);

}
