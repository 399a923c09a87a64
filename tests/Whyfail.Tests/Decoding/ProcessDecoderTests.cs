using Whyfail.Decoding;
using Xunit;
using static Whyfail.Tests.Decoding.Kit;

namespace Whyfail.Tests.Decoding;

public class ExecDecoderTests
{
    [Fact]
    public void ExecveShowsPathAndArgv() =>
        Assert.Equal("execve(\"/bin/lsx\", [\"ls\", \"-l\"], 0x7ffd3000)",
            Line(Ev("execve", [0x1000, 0x2000, 0x7ffd3000], -2, false, Str(0, "/bin/lsx"), Vec(1, 0, "ls"), Vec(1, 1, "-l"))));

    [Fact]
    public void ArgvOrderFollowsTheIndexNotTheCaptureOrder() =>
        Assert.Equal("[\"a\", \"b\", \"c\"]",
            Raw(Ev("execve", [0x1000, 0x2000, 0], -2, false, Vec(1, 2, "c"), Vec(1, 0, "a"), Vec(1, 1, "b")))[1]);

    [Fact]
    public void ArgvWithMoreElementsThanCopiedEndsWithDots()
    {
        int n = Whyfail.Decoding.ExecFamily.VectorMax;
        var caps = Enumerable.Range(0, n).Select(i => Vec(1, i, "a" + i)).ToArray();
        var all = "[" + string.Join(", ", Enumerable.Range(0, n).Select(i => $"\"a{i}\"")) + "]";
        Assert.Equal(all[..^1] + ", ...]", Raw(Ev("execve", [0x1000, 0x2000, 0], -7, true, caps))[1]);
        // exactly as many as are copied, nothing cut
        Assert.Equal(all, Raw(Ev("execve", [0x1000, 0x2000, 0], -7, false, caps))[1]);
    }

    [Fact]
    public void ArgvElementsAreLimited()
    {
        var longArg = new string('z', 255);
        Assert.Equal("[\"zzzz\"...]", Raw(Ev("execve", [0x1000, 0x2000, 0], -7, true, Vec(1, 0, longArg)), limit: 4)[1]);
        Assert.Equal($"[\"{longArg}\"...]", Raw(Ev("execve", [0x1000, 0x2000, 0], -7, true, Vec(1, 0, longArg)), limit: 1000)[1]);
    }

    [Fact]
    public void ArgvEdgeCases()
    {
        Assert.Equal("NULL", Raw(Ev("execve", [0x1000, 0, 0], -14))[1]);
        Assert.Equal("[]", Raw(Ev("execve", [0x1000, 0x2000, 0], -2))[1]);
        // nothing copied and the kernel said EFAULT: the array itself was unreadable
        Assert.Equal("0x2000", Raw(Ev("execve", [0x1000, 0x2000, 0], -14))[1]);
        Assert.Equal("[\"ok\", ???]",
            Raw(Ev("execve", [0x1000, 0x2000, 0], -14, false, Vec(1, 0, "ok"),
                new Whyfail.Events.CapturedArg(1, Whyfail.Events.CaptureKind.StringVector, 1, null, 0)))[1]);
    }

    [Fact]
    public void Execveat() =>
        Assert.Equal("execveat(3, \"\", [\"x\"], NULL, AT_EMPTY_PATH)",
            Line(Ev("execveat", [3, 0x1000, 0x2000, 0, 0x1000], -2, false, Str(1, ""), Vec(2, 0, "x"))));
}

public class CloneDecoderTests
{
    [Fact]
    public void CloneOfAThread() =>
        Assert.Equal("clone(child_stack=0x7f0000fff000, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|"
                     + "CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, parent_tid=0x7f0001, "
                     + "child_tidptr=0x7f0002, tls=0x7f0003)",
            Line(Ev("clone", [0x3d0f00, 0x7f0000fff000, 0x7f0001, 0x7f0002, 0x7f0003], -11)));

    [Fact]
    public void CloneKeepsTheExitSignalInTheLowByte()
    {
        Assert.Equal("clone(child_stack=NULL, flags=SIGCHLD)", Line(Ev("clone", [17, 0, 0, 0, 0], -11)));
        Assert.Equal("clone(child_stack=NULL, flags=CLONE_NEWUSER|SIGCHLD)", Line(Ev("clone", [0x10000011, 0, 0, 0, 0], -22)));
        Assert.Equal("clone(child_stack=NULL, flags=0)", Line(Ev("clone", [0, 0, 0, 0, 0], -22)));
    }

    private static byte[] CloneArgs(ulong flags, ulong exitSignal, ulong pidfd = 0, ulong setTid = 0, ulong setTidSize = 0, ulong cgroup = 0, int size = 88) =>
        new StructBytes(88).U64(0, flags).U64(8, pidfd).U64(32, exitSignal).U64(40, 0x7f0000).U64(48, 0x4000)
            .U64(64, setTid).U64(72, setTidSize).U64(80, cgroup).Bytes.AsSpan(0, size).ToArray();

    [Fact]
    public void Clone3DecodesCloneArgs()
    {
        Assert.Equal("clone3({flags=CLONE_NEWUSER|CLONE_NEWPID, exit_signal=SIGCHLD, stack=0x7f0000, stack_size=0x4000}, 88)",
            Line(Ev("clone3", [0x1000, 88], -1, false, Sized(0, CloneArgs(0x30000000, 17)))));
        Assert.Equal("clone3({flags=CLONE_PIDFD|CLONE_INTO_CGROUP, pidfd=0x7ffd0000, exit_signal=0, stack=0x7f0000, "
                     + "stack_size=0x4000, set_tid=0x7ffd1000, set_tid_size=1, cgroup=7}, 88)",
            Line(Ev("clone3", [0x1000, 88], -1, false,
                Sized(0, CloneArgs(0x200001000, 0, pidfd: 0x7ffd0000, setTid: 0x7ffd1000, setTidSize: 1, cgroup: 7)))));
        // the first version of the struct has no set_tid or cgroup
        Assert.Equal("clone3({flags=CLONE_VM, exit_signal=SIGCHLD, stack=0x7f0000, stack_size=0x4000}, 64)",
            Line(Ev("clone3", [0x1000, 64], -22, false, Sized(0, CloneArgs(0x100, 17, setTidSize: 5, size: 64)))));
        // shorter than the first version: the pointer
        Assert.Equal("clone3(0x1000, 32)", Line(Ev("clone3", [0x1000, 32], -22, false, Sized(0, new byte[32]))));
    }

    [CompilerFact]
    public void CloneArgsMatchTheCompilersLayout()
    {
        var bytes = CStruct.Bytes("#include <linux/sched.h>\n#include <signal.h>", "struct clone_args",
            "s.flags = CLONE_NEWNET; s.exit_signal = SIGUSR1; s.stack = 0x1000; s.stack_size = 0x2000;");
        Assert.Equal($"clone3({{flags=CLONE_NEWNET, exit_signal=SIGUSR1, stack=0x1000, stack_size=0x2000}}, {bytes.Length})",
            Line(Ev("clone3", [0x9000, (ulong)bytes.Length], -1, false, Sized(0, bytes))));
    }

    [Fact]
    public void NamespaceCalls()
    {
        Assert.Equal("unshare(CLONE_NEWNS|CLONE_NEWUSER)", Line(Ev("unshare", [0x10020000], -1)));
        Assert.Equal("setns(3, CLONE_NEWNET)", Line(Ev("setns", [3, 0x40000000], -22)));
        Assert.Equal("setns(3, 0)", Line(Ev("setns", [3, 0], -22)));
    }
}

public class WaitAndSignalDecoderTests
{
    [Fact]
    public void Wait()
    {
        Assert.Equal("wait4(-1, 0x7ffd0000, WNOHANG|__WALL, NULL)", Line(Ev("wait4", [ulong.MaxValue, 0x7ffd0000, 0x40000001, 0], -10)));
        Assert.Equal("wait4(123, NULL, 0, NULL)", Line(Ev("wait4", [123, 0, 0, 0], -10)));
        Assert.Equal("waitid(P_PIDFD, 3, 0x7ffd0000, WNOHANG|WEXITED, NULL)", Line(Ev("waitid", [3, 3, 0x7ffd0000, 5, 0], -10)));
        Assert.Equal("waitid(P_ALL, 0, NULL, WSTOPPED|WNOWAIT, NULL)", Line(Ev("waitid", [0, 0, 0, 0x1000002, 0], -22)));
    }

    [Fact]
    public void Kill()
    {
        Assert.Equal("kill(1234, SIGKILL)", Line(Ev("kill", [1234, 9], -1)));
        Assert.Equal("kill(-1, 0)", Line(Ev("kill", [ulong.MaxValue, 0], -3)));
        Assert.Equal("tkill(5, 99)", Line(Ev("tkill", [5, 99], -22)));
        Assert.Equal("tgkill(100, 101, SIGRTMIN)", Line(Ev("tgkill", [100, 101, 32], -3)));
        Assert.Equal("rt_sigqueueinfo(7, SIGUSR1, 0x7ffd0000)", Line(Ev("rt_sigqueueinfo", [7, 10, 0x7ffd0000], -1)));
        Assert.Equal("pidfd_send_signal(4, SIGTERM, NULL, 0)", Line(Ev("pidfd_send_signal", [4, 15, 0, 0], -3)));
    }

    private static byte[] Sigaction(ulong handler, ulong flags, ulong restorer, ulong mask) =>
        new StructBytes(32).U64(0, handler).U64(8, flags).U64(16, restorer).U64(24, mask).Bytes;

    [Fact]
    public void RtSigaction()
    {
        Assert.Equal("rt_sigaction(SIGINT, {sa_handler=0x401000, sa_mask=[TERM], sa_flags=SA_RESTORER|SA_RESTART, "
                     + "sa_restorer=0x7f0000001000}, NULL, 8)",
            Line(Ev("rt_sigaction", [2, 0x1000, 0, 8], -22, false, Fixed(1, Sigaction(0x401000, 0x14000000, 0x7f0000001000, 1UL << 14)))));
        Assert.Equal("rt_sigaction(SIGKILL, {sa_handler=SIG_IGN, sa_mask=[], sa_flags=0}, 0x7ffd0000, 8)",
            Line(Ev("rt_sigaction", [9, 0x1000, 0x7ffd0000, 8], -22, false, Fixed(1, Sigaction(1, 0, 0, 0)))));
        Assert.Equal("rt_sigaction(SIGRT_2, NULL, 0x7ffd0000, 8)", Line(Ev("rt_sigaction", [34, 0, 0x7ffd0000, 8], -22)));
    }

    [CompilerFact]
    public void SigactionMatchesTheCompilersLayout()
    {
        var bytes = CStruct.Bytes("#include <asm/signal.h>", "struct sigaction",
            "s.sa_handler = (__sighandler_t)0x1234; s.sa_flags = SA_SIGINFO | SA_RESTORER; s.sa_restorer = (__sigrestore_t)0x5678; s.sa_mask = 1UL << (SIGUSR2 - 1);");
        Assert.Equal("rt_sigaction(SIGSEGV, {sa_handler=0x1234, sa_mask=[USR2], sa_flags=SA_SIGINFO|SA_RESTORER, sa_restorer=0x5678}, NULL, 8)",
            Line(Ev("rt_sigaction", [11, 0x1000, 0, 8], -22, false, Fixed(1, bytes))));
    }

    [Fact]
    public void SignalMasks()
    {
        ulong all = ulong.MaxValue & ~(1UL << 8) & ~(1UL << 18);
        Assert.Equal("rt_sigprocmask(SIG_SETMASK, ~[KILL STOP], NULL, 8)",
            Line(Ev("rt_sigprocmask", [2, 0x1000, 0, 8], -22, false, Fixed(1, Le64(all)))));
        Assert.Equal("rt_sigprocmask(SIG_BLOCK, ~[], 0x7ffd0000, 8)",
            Line(Ev("rt_sigprocmask", [0, 0x1000, 0x7ffd0000, 8], -22, false, Fixed(1, Le64(ulong.MaxValue)))));
        Assert.Equal("rt_sigprocmask(SIG_UNBLOCK, [HUP RTMIN RT_1 RTMAX], NULL, 8)",
            Line(Ev("rt_sigprocmask", [1, 0x1000, 0, 8], -22, false, Fixed(1, Le64(1UL | 1UL << 31 | 1UL << 32 | 1UL << 63)))));
        // a sigset_t size the kernel rejects: not decoded
        Assert.Equal("rt_sigprocmask(SIG_BLOCK, 0x1000, NULL, 16)",
            Line(Ev("rt_sigprocmask", [0, 0x1000, 0, 16], -22, false, Fixed(1, Le64(1)))));
        Assert.Equal("rt_sigprocmask(0x7 /* SIG_??? */, NULL, NULL, 8)", Line(Ev("rt_sigprocmask", [7, 0, 0, 8], -22)));
        Assert.Equal("rt_sigsuspend([], 8)", Line(Ev("rt_sigsuspend", [0x1000, 8], -4, false, Fixed(0, Le64(0)))));
        Assert.Equal("rt_sigtimedwait([USR1], NULL, {tv_sec=1, tv_nsec=0}, 8)",
            Line(Ev("rt_sigtimedwait", [0x1000, 0, 0x2000, 8], -11, false, Fixed(0, Le64(1UL << 9)),
                Fixed(2, new StructBytes(16).I64(0, 1).Bytes))));
        Assert.Equal("signalfd4(-1, [CHLD], 8, SFD_NONBLOCK|SFD_CLOEXEC)",
            Line(Ev("signalfd4", [0xffffffff, 0x1000, 8, 0x80800], -9, false, Fixed(1, Le64(1UL << 16)))));
    }

    [Fact]
    public void Sigaltstack() =>
        Assert.Equal("sigaltstack({ss_sp=0x7f0000, ss_flags=SS_ONSTACK, ss_size=8192}, NULL)",
            Line(Ev("sigaltstack", [0x1000, 0], -1, false, Fixed(0, new StructBytes(24).U64(0, 0x7f0000).U32(8, 1).U64(16, 8192).Bytes))));
}

public class ModuleDecoderTests
{
    [Fact]
    public void KernelCodeFromFiles()
    {
        // As strace 6.1 prints them for its tests/finit_module.c and kexec_file_load.c.
        Assert.Equal("finit_module(-1091571699, NULL, MODULE_INIT_IGNORE_MODVERSIONS|0xdec0ded0)",
            Line(Ev("finit_module", [0xdeb0d1edbeeff00d, 0, 0xdec0ded1], -38)));
        Assert.Equal("kexec_file_load(-1159878751, -553988398, 0, NULL, 0xbadc0dedda7a1058)",
            Line(Ev("kexec_file_load", [0xdeadca57badda7a1, 0xdec0ded1defaced2, 0, 0, 0xbadc0dedda7a1058], -38)));
    }
}

public class PtracePrctlDecoderTests
{
    [Fact]
    public void Ptrace()
    {
        Assert.Equal("ptrace(PTRACE_TRACEME)", Line(Ev("ptrace", [0, 0, 0, 0], -1)));
        Assert.Equal("ptrace(PTRACE_ATTACH, 1234)", Line(Ev("ptrace", [16, 1234, 0, 0], -1)));
        Assert.Equal("ptrace(PTRACE_SEIZE, 1234, NULL, PTRACE_O_TRACESYSGOOD|PTRACE_O_EXITKILL)",
            Line(Ev("ptrace", [0x4206, 1234, 0, 0x100001], -1)));
        Assert.Equal("ptrace(PTRACE_CONT, 1234, NULL, SIGSTOP)", Line(Ev("ptrace", [7, 1234, 0, 19], -3)));
        Assert.Equal("ptrace(PTRACE_DETACH, 1234, NULL, 0)", Line(Ev("ptrace", [17, 1234, 0, 0], -3)));
        Assert.Equal("ptrace(PTRACE_PEEKDATA, 1234, 0x1000, 0x7ffd0000)", Line(Ev("ptrace", [2, 1234, 0x1000, 0x7ffd0000], -5)));
        Assert.Equal("ptrace(PTRACE_GETREGS, 1234, NULL, 0x7ffd0000)", Line(Ev("ptrace", [12, 1234, 0, 0x7ffd0000], -3)));
        Assert.Equal("ptrace(0x9999 /* PTRACE_??? */, 1, 0x2, 0x3)", Line(Ev("ptrace", [0x9999, 1, 2, 3], -5)));
        // The pid is a pid_t: the kernel reads the register's low 32 bits (strace's tests/ptrace.c passes garbage above them).
        Assert.Equal("ptrace(0xdeadbeeffffffeed /* PTRACE_??? */, 15097, NULL, NULL)",
            Line(Ev("ptrace", [0xdeadbeeffffffeed, 0xdeadbeef00003af9, 0, 0], -3)));
        Assert.Equal("ptrace(PTRACE_ATTACH, -1)", Line(Ev("ptrace", [16, 0x00000001ffffffff, 0, 0], -3)));
    }

    [Fact]
    public void Prctl()
    {
        Assert.Equal("prctl(PR_SET_NAME, \"worker\")",
            Line(Ev("prctl", [15, 0x1000, 0, 0, 0], -22, false, Str(1, "worker"))));
        Assert.Equal("prctl(PR_SET_PDEATHSIG, SIGKILL)", Line(Ev("prctl", [1, 9, 0, 0, 0], -22)));
        Assert.Equal("prctl(PR_GET_PDEATHSIG, 0x7ffd0000)", Line(Ev("prctl", [2, 0x7ffd0000, 0, 0, 0], -14)));
        Assert.Equal("prctl(PR_GET_DUMPABLE)", Line(Ev("prctl", [3, 0, 0, 0, 0], -22)));
        Assert.Equal("prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)", Line(Ev("prctl", [38, 1, 0, 0, 0], -22)));
        Assert.Equal("prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN)", Line(Ev("prctl", [24, 21, 0, 0, 0], -1)));
        Assert.Equal("prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW, 0, 0)", Line(Ev("prctl", [47, 2, 13, 0, 0], -1)));
        Assert.Equal("prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)", Line(Ev("prctl", [47, 4, 0, 0, 0], -1)));
        Assert.Equal("prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, 0x7ffd0000)", Line(Ev("prctl", [22, 2, 0x7ffd0000, 0, 0], -14)));
        Assert.Equal("prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT)", Line(Ev("prctl", [22, 1, 0, 0, 0], -22)));
        Assert.Equal("prctl(PR_SET_MM, PR_SET_MM_BRK, 0x555000, 0, 0)", Line(Ev("prctl", [35, 7, 0x555000, 0, 0], -1)));
        Assert.Equal("prctl(PR_SET_PTRACER, -1)", Line(Ev("prctl", [0x59616d61, ulong.MaxValue, 0, 0, 0], -22)));
        Assert.Equal("prctl(0x12345 /* PR_??? */, 0x1, 0x2, 0x3, 0x4)", Line(Ev("prctl", [0x12345, 1, 2, 3, 4], -22)));
    }
}

public class CredsResourceSeccompDecoderTests
{
    [Fact]
    public void Ids()
    {
        Assert.Equal("setuid(0)", Line(Ev("setuid", [0], -1)));
        Assert.Equal("setresuid(-1, 1000, -1)", Line(Ev("setresuid", [0xffffffff, 1000, 0xffffffff], -1)));
        Assert.Equal("setregid(100, -1)", Line(Ev("setregid", [100, 0xffffffff], -1)));
        Assert.Equal("setfsuid(4294967294)", Line(Ev("setfsuid", [0xfffffffe], -1)));
        Assert.Equal("setgroups(2, 0x7ffd0000)", Line(Ev("setgroups", [2, 0x7ffd0000], -1)));
    }

    private static byte[] CapHeader(uint version, int pid) => new StructBytes(8).U32(0, version).I32(4, pid).Bytes;

    [Fact]
    public void Capabilities()
    {
        Assert.Equal("capget({version=_LINUX_CAPABILITY_VERSION_3, pid=0}, 0x7ffd0000)",
            Line(Ev("capget", [0x1000, 0x7ffd0000], -22, false, Fixed(0, CapHeader(0x20080522, 0)))));
        var data = new StructBytes(24)
            .U32(0, 1u << 21).U32(4, (1u << 21) | 1).U32(8, 0)          // caps 0..31
            .U32(12, 1u << (38 - 32)).U32(16, 0).U32(20, 0).Bytes;      // caps 32..63
        Assert.Equal("capset({version=_LINUX_CAPABILITY_VERSION_3, pid=0}, {effective=1<<CAP_SYS_ADMIN|1<<CAP_PERFMON, "
                     + "permitted=1<<CAP_CHOWN|1<<CAP_SYS_ADMIN, inheritable=0})",
            Line(Ev("capset", [0x1000, 0x2000], -1, false, Fixed(0, CapHeader(0x20080522, 0)), Fixed(1, data))));
        // version 1 has a single 32-bit word per set
        Assert.Equal("capset({version=_LINUX_CAPABILITY_VERSION_1, pid=42}, {effective=1<<CAP_KILL, permitted=1<<CAP_KILL, inheritable=0})",
            Line(Ev("capset", [0x1000, 0x2000], -1, false, Fixed(0, CapHeader(0x19980330, 42)),
                Fixed(1, new StructBytes(24).U32(0, 1u << 5).U32(4, 1u << 5).U32(12, 0xffffffff).Bytes))));
        Assert.Equal("capget({version=0x12345678 /* _LINUX_CAPABILITY_VERSION_??? */, pid=0}, NULL)",
            Line(Ev("capget", [0x1000, 0], -22, false, Fixed(0, CapHeader(0x12345678, 0)))));
    }

    private static byte[] Rlimit(ulong cur, ulong max) => new StructBytes(16).U64(0, cur).U64(8, max).Bytes;

    [Fact]
    public void Rlimits()
    {
        Assert.Equal("getrlimit(RLIMIT_NOFILE, 0x7ffd0000)", Line(Ev("getrlimit", [7, 0x7ffd0000], -14)));
        Assert.Equal("setrlimit(RLIMIT_STACK, {rlim_cur=8192*1024, rlim_max=RLIM_INFINITY})",
            Line(Ev("setrlimit", [3, 0x1000], -1, false, Fixed(1, Rlimit(8192 * 1024, ulong.MaxValue)))));
        Assert.Equal("prlimit64(0, RLIMIT_NOFILE, {rlim_cur=1024, rlim_max=4*1024}, NULL)",
            Line(Ev("prlimit64", [0, 7, 0x1000, 0], -1, false, Fixed(2, Rlimit(1024, 4096)))));
        Assert.Equal("prlimit64(1234, RLIMIT_CORE, NULL, 0x7ffd0000)", Line(Ev("prlimit64", [1234, 4, 0, 0x7ffd0000], -3)));
        Assert.Equal("prlimit64(0, 0x63 /* RLIMIT_??? */, NULL, 0x7ffd0000)", Line(Ev("prlimit64", [0, 99, 0, 0x7ffd0000], -22)));
        Assert.Equal("setpriority(PRIO_USER, 1000, -5)", Line(Ev("setpriority", [2, 1000, unchecked((ulong)-5L)], -13)));
        Assert.Equal("getrusage(RUSAGE_CHILDREN, 0x7ffd0000)", Line(Ev("getrusage", [0xffffffff, 0x7ffd0000], -14)));
    }

    [Fact]
    public void Seccomp()
    {
        Assert.Equal("seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC|SECCOMP_FILTER_FLAG_NEW_LISTENER, {len=12, filter=0x7ffd1000})",
            Line(Ev("seccomp", [1, 9, 0x1000], -22, false, Fixed(2, new StructBytes(16).U16(0, 12).U64(8, 0x7ffd1000).Bytes))));
        Assert.Equal("seccomp(SECCOMP_GET_ACTION_AVAIL, 0, [SECCOMP_RET_LOG])",
            Line(Ev("seccomp", [2, 0, 0x1000], -95, false, Fixed(2, new StructBytes(16).U32(0, 0x7ffc0000).Bytes))));
        Assert.Equal("seccomp(SECCOMP_SET_MODE_STRICT, 0, NULL)", Line(Ev("seccomp", [0, 0, 0], -22)));
        Assert.Equal("seccomp(0x9 /* SECCOMP_??? */, 0x1, 0x1000)", Line(Ev("seccomp", [9, 1, 0x1000], -22)));
    }
}
