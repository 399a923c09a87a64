using Whyfail.Decoding;
using Xunit;

namespace Whyfail.Tests.Decoding;

public class SyscallTableTests
{
    [Theory]
    [InlineData("read", 0)]
    [InlineData("openat", 257)]
    [InlineData("execve", 59)]
    [InlineData("perf_event_open", 298)]
    [InlineData("io_uring_setup", 425)]
    [InlineData("clone3", 435)]
    [InlineData("openat2", 437)]
    [InlineData("fchmodat2", 452)]   // newer than the installed headers: from the generator's list
    [InlineData("mseal", 462)]
    public void Numbers(string name, int nr)
    {
        Assert.True(SyscallTable.TryGetNumber(name, out var got));
        Assert.Equal(nr, got);
        Assert.Equal(name, SyscallTable.Name(nr));
        Assert.Equal(nr, SyscallTable.Get(nr)!.Nr);
    }

    [Fact]
    public void NamesAreStraceNamesNotKernelEntryPoints()
    {
        Assert.Equal("stat", SyscallTable.Name(4));
        Assert.Equal("umount2", SyscallTable.Name(166));
        Assert.False(SyscallTable.TryGetNumber("newstat", out _));
        // their arguments come from the kernel's tracepoint of the same call (sys_enter_newstat)
        Assert.Equal(["filename", "statbuf"], SyscallTable.Get(4)!.Args.Select(a => a.Name));
    }

    [Fact]
    public void ArgumentsComeFromTracefs()
    {
        var openat = SyscallTable.Get(257)!;
        Assert.True(openat.ArgsKnown);
        Assert.Equal([new SyscallArg("dfd", "int"), new SyscallArg("filename", "const char *"),
                      new SyscallArg("flags", "int"), new SyscallArg("mode", "umode_t")], openat.Args);
        var getpid = SyscallTable.Get(39)!;
        Assert.True(getpid.ArgsKnown);
        Assert.Empty(getpid.Args);
    }

    [Fact]
    public void CallsWithoutAFormatKeepTheirNameWithUnknownArguments()
    {
        var info = SyscallTable.All.First(i => !i.ArgsKnown);
        Assert.NotEmpty(info.Name);
        Assert.Empty(info.Args);
    }

    [Fact]
    public void UnknownNumbers()
    {
        Assert.Null(SyscallTable.Name(0x1ff));
        Assert.Null(SyscallTable.Get(-1));
        Assert.Null(SyscallTable.Get(100000));
        Assert.Equal("syscall_0x1ff", SyscallTable.DisplayName(0x1ff));
        Assert.False(SyscallTable.TryGetNumber("nosuchcall", out _));
    }

    [Fact]
    public void AllIsOrderedAndUnique()
    {
        var all = SyscallTable.All;
        Assert.True(all.Count > 350);
        Assert.Equal(all.Select(a => a.Nr).Order(), all.Select(a => a.Nr));
        Assert.Equal(all.Count, all.Select(a => a.Name).Distinct().Count());
    }

    [Theory]
    [InlineData("opnat", "openat")]
    [InlineData("excve", "execve")]
    [InlineData("unlinkt", "unlinkat")]
    [InlineData("OPENAT", "openat2")]
    [InlineData("clone", "clone3")]
    public void Suggestions(string bad, string expected) => Assert.Contains(expected, SyscallTable.Suggest(bad));

    [Fact]
    public void SuggestionsRankTheClosestFirst()
    {
        Assert.Equal("openat", SyscallTable.Suggest("opnat")[0]);
        Assert.Empty(SyscallTable.Suggest("zzzzzzzzzzzzzz"));
        Assert.Empty(SyscallTable.Suggest(""));
    }

    [Theory]
    [InlineData("%file", "openat", true)]
    [InlineData("%file", "execve", true)]
    [InlineData("%file", "close", false)]
    [InlineData("%desc", "close", true)]
    [InlineData("%desc", "openat", true)]
    [InlineData("%desc", "kill", false)]
    [InlineData("%network", "connect", true)]
    [InlineData("%net", "socket", true)]
    [InlineData("%net", "read", false)]
    [InlineData("%process", "clone3", true)]
    [InlineData("%process", "execve", true)]
    [InlineData("%signal", "rt_sigaction", true)]
    [InlineData("%signal", "kill", true)]
    [InlineData("%ipc", "shmget", true)]
    [InlineData("%memory", "mmap", true)]
    [InlineData("%memory", "read", false)]
    [InlineData("%creds", "setresuid", true)]
    [InlineData("%creds", "capset", true)]
    [InlineData("%stat", "stat", true)]
    [InlineData("%lstat", "lstat", true)]
    [InlineData("%fstat", "newfstatat", true)]
    [InlineData("%%stat", "statx", true)]
    [InlineData("%%statfs", "fstatfs", true)]
    [InlineData("%clock", "clock_gettime", true)]
    [InlineData("%pure", "getpid", true)]
    public void Classes(string cls, string member, bool expected)
    {
        Assert.True(SyscallTable.TryExpandClass(cls, out var nrs));
        Assert.Equal(expected, nrs.Contains(Kit.Nr(member)));
    }

    [Fact]
    public void ClassesDerivedFromArgumentsCoverEveryPathCall()
    {
        Assert.True(SyscallTable.TryExpandClass("%file", out var file));
        foreach (var info in SyscallTable.All)
            if (info.Args.Any(a => a.CType == "const char *" && a.Name is "filename" or "pathname"))
                Assert.Contains(info.Nr, file);
    }

    [Fact]
    public void UnknownClasses()
    {
        Assert.False(SyscallTable.TryExpandClass("%nosuch", out var nrs));
        Assert.Empty(nrs);
        Assert.False(SyscallTable.TryExpandClass("file", out _)); // the % is required
        Assert.Contains("%file", SyscallTable.ClassNames);
        Assert.Contains("%%stat", SyscallTable.ClassNames);
    }
}

public class ErrnoTests
{
    [Fact]
    public void UserErrnos()
    {
        Assert.Equal("ENOENT", Errno.Name(2));
        Assert.Equal("No such file or directory", Errno.Message(2));
        Assert.Equal("EACCES", Errno.Name(13));
        Assert.Equal("Permission denied", Errno.Message(13));
        Assert.Equal("EAGAIN", Errno.Name(11));
        Assert.Equal("EHWPOISON", Errno.Name(133));
        Assert.False(Errno.IsInternal(2));
        Assert.Equal("ENOENT (No such file or directory)", Errno.Describe(2));
    }

    [Theory]
    [InlineData(512, "ERESTARTSYS", "To be restarted if SA_RESTART is set")]
    [InlineData(513, "ERESTARTNOINTR", "To be restarted")]
    [InlineData(514, "ERESTARTNOHAND", "To be restarted if no handler")]
    [InlineData(515, "ENOIOCTLCMD", "No ioctl command")]
    [InlineData(516, "ERESTART_RESTARTBLOCK", "Interrupted by signal")]
    [InlineData(517, "EPROBE_DEFER", "Driver requests probe retry")]
    [InlineData(524, "ENOTSUPP", "Operation is not supported")]
    [InlineData(530, "ERECALLCONFLICT", "Conflict with recalled state")]
    [InlineData(531, "ENOGRACE", "NFS file lock reclaim refused")]
    public void InternalErrnos(int nr, string name, string message)
    {
        Assert.Equal(name, Errno.Name(nr));
        Assert.Equal(message, Errno.Message(nr));
        Assert.True(Errno.IsInternal(nr));
        Assert.True(Errno.TryParse(name, out var back));
        Assert.Equal(nr, back);
    }

    [Fact]
    public void Unknown()
    {
        Assert.Null(Errno.Name(41));        // unassigned
        Assert.Null(Errno.Name(520));
        Assert.Null(Errno.Name(4000));
        Assert.Equal("Unknown error 4000", Errno.Message(4000));
        Assert.False(Errno.IsInternal(511));
        Assert.False(Errno.IsInternal(600));
    }

    [Theory]
    [InlineData("ENOENT", 2)]
    [InlineData("enoent", 2)]
    [InlineData(" EPERM ", 1)]
    [InlineData("EWOULDBLOCK", 11)]
    [InlineData("EDEADLOCK", 35)]
    [InlineData("ENOTSUP", 95)]
    [InlineData("13", 13)]
    [InlineData("erestartsys", 512)]
    public void Parse(string s, int expected)
    {
        Assert.True(Errno.TryParse(s, out var e));
        Assert.Equal(expected, e);
    }

    [Theory]
    [InlineData("ENOSUCH")]
    [InlineData("0")]
    [InlineData("-2")]
    [InlineData("5000")]
    [InlineData("")]
    public void ParseRejects(string s) => Assert.False(Errno.TryParse(s, out _));

    [Fact]
    public void Suggestions()
    {
        Assert.Contains("ENOENT", Errno.Suggest("ENOTENT"));
        Assert.Contains("EACCES", Errno.Suggest("EACESS"));
        Assert.Contains("EPERM", Errno.Suggest("eprem"));
    }
}

public class SignalsTests
{
    [Theory]
    [InlineData(1, "SIGHUP")]
    [InlineData(9, "SIGKILL")]
    [InlineData(6, "SIGABRT")]
    [InlineData(17, "SIGCHLD")]
    [InlineData(31, "SIGSYS")]
    [InlineData(32, "SIGRTMIN")]
    [InlineData(35, "SIGRT_3")]
    [InlineData(64, "SIGRTMAX")]
    public void Names(int sig, string name)
    {
        Assert.Equal(name, Signals.Name(sig));
        Assert.True(Signals.TryParse(name, out var back));
        Assert.Equal(sig, back);
    }

    [Fact]
    public void OutOfRange()
    {
        Assert.Null(Signals.Name(0));
        Assert.Null(Signals.Name(65));
        Assert.Null(Signals.Name(-9));
        Assert.Equal(64, Signals.Max);
    }

    [Theory]
    [InlineData("term", 15)]
    [InlineData("SIGIOT", 6)]
    [InlineData("POLL", 29)]
    [InlineData("9", 9)]
    [InlineData("SIGRTMIN+2", 34)]
    [InlineData("rtmax-1", 63)]
    [InlineData("SIGRT_32", 64)]
    public void Parse(string s, int expected)
    {
        Assert.True(Signals.TryParse(s, out var sig));
        Assert.Equal(expected, sig);
    }

    [Theory]
    [InlineData("SIGFOO")]
    [InlineData("0")]
    [InlineData("65")]
    [InlineData("SIGRTMIN+40")]
    [InlineData("SIGRTMIN-1")]
    public void ParseRejects(string s) => Assert.False(Signals.TryParse(s, out _));

    [Fact]
    public void Suggestions() => Assert.Contains("SIGTERM", Signals.Suggest("SIGTREM"));
}

public class CapabilitiesTests
{
    [Theory]
    [InlineData(0, "CAP_CHOWN")]
    [InlineData(21, "CAP_SYS_ADMIN")]
    [InlineData(12, "CAP_NET_ADMIN")]
    [InlineData(38, "CAP_PERFMON")]
    [InlineData(39, "CAP_BPF")]
    public void Names(int cap, string name)
    {
        Assert.Equal(name, Capabilities.Name(cap));
        Assert.True(Capabilities.TryParse(name, out var back));
        Assert.Equal(cap, back);
    }

    [Fact]
    public void Others()
    {
        Assert.Null(Capabilities.Name(63));
        Assert.Null(Capabilities.Name(-1));
        Assert.True(Capabilities.Last >= 40);
        Assert.True(Capabilities.TryParse("sys_ptrace", out var c));
        Assert.Equal(19, c);
        Assert.Contains("CAP_SYS_ADMIN", Capabilities.Suggest("CAP_SYS_ADMN"));
    }
}
