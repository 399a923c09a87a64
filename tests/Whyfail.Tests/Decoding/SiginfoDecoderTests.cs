using Whyfail.Events;
using Xunit;
using static Whyfail.Tests.Decoding.Kit;

namespace Whyfail.Tests.Decoding;

/// <summary>
/// siginfo_t (ptrace PTRACE_SETSIGINFO, pidfd_send_signal) and a sleep's remaining time, on bytes the C compiler
/// lays out from the installed headers; the expected lines are strace 6.1's for the same values (tests/ptrace.c,
/// tests/pidfd_send_signal.c, tests/nanosleep.c).
/// </summary>
public class SiginfoDecoderTests
{
    private static byte[] Siginfo(string fill) => CStruct.Bytes("#include <linux/signal.h>\n#include <errno.h>", "siginfo_t", fill);

    private static string SetSiginfo(byte[] si) =>
        Line(Ev("ptrace", [0x4203 /* PTRACE_SETSIGINFO */, 42, 0xdeadbeeffffffeed, 0x7ffff7dcaf80], -3, false, Fixed(3, si)));

    [CompilerFact]
    public void FaultsCarryTheAddressAndTheirCodesFields()
    {
        Assert.Equal("ptrace(PTRACE_SETSIGINFO, 42, 0xdeadbeeffffffeed, {si_signo=SIGSEGV, si_code=SEGV_BNDERR, "
                     + "si_addr=0xfacefeeddeadbeef, si_lower=NULL, si_upper=0xdeadc0debeadfeed})",
            SetSiginfo(Siginfo("s.si_signo = SIGSEGV; s.si_code = SEGV_BNDERR; s.si_addr = (void *)0xfacefeeddeadbeef; "
                               + "s.si_upper = (void *)0xdeadc0debeadfeed;")));
        Assert.Equal("ptrace(PTRACE_SETSIGINFO, 42, 0xdeadbeeffffffeed, {si_signo=SIGSEGV, si_code=SEGV_PKUERR, "
                     + "si_addr=0xfacefeeddeadbeef, si_pkey=3141592653})",
            SetSiginfo(Siginfo("s.si_signo = SIGSEGV; s.si_code = SEGV_PKUERR; s.si_addr = (void *)0xfacefeeddeadbeef; "
                               + "s.si_pkey = 3141592653U;")));
        Assert.Equal("ptrace(PTRACE_SETSIGINFO, 42, 0xdeadbeeffffffeed, {si_signo=SIGBUS, si_code=BUS_MCEERR_AR, "
                     + "si_errno=4294967294, si_addr=0xfacefeeddeadbeef, si_addr_lsb=0xdead})",
            SetSiginfo(Siginfo("s.si_signo = SIGBUS; s.si_code = BUS_MCEERR_AR; s.si_errno = -2; "
                               + "s.si_addr = (void *)0xfacefeeddeadbeef; s.si_addr_lsb = 0xdead;")));
        // A code the signal has no name for: hex, and still the fault's address.
        Assert.Equal("ptrace(PTRACE_SETSIGINFO, 42, 0xdeadbeeffffffeed, {si_signo=SIGTRAP, si_code=0x499602d2, "
                     + "si_errno=ENOENT, si_addr=0xfacefeeddeadbeef})",
            SetSiginfo(Siginfo("s.si_signo = SIGTRAP; s.si_code = 1234567890; s.si_errno = ENOENT; "
                               + "s.si_addr = (void *)0xfacefeeddeadbeef;")));
    }

    [CompilerFact]
    public void SenderCodesCarryTheSenderTimerOrDescriptor()
    {
        Assert.Equal("ptrace(PTRACE_SETSIGINFO, 42, 0xdeadbeeffffffeed, {si_signo=SIGHUP, si_code=SI_TIMER, "
                     + "si_errno=ENOENT, si_timerid=0xdeadbeef, si_overrun=-1, si_int=-559038737, si_ptr=0xfacefeeddeadbeef})",
            SetSiginfo(Siginfo("s.si_signo = SIGHUP; s.si_code = SI_TIMER; s.si_errno = ENOENT; s.si_tid = 0xdeadbeef; "
                               + "s.si_overrun = -1; s.si_ptr = (void *)0xfacefeeddeadbeef;")));
        Assert.Equal("ptrace(PTRACE_SETSIGINFO, 42, 0xdeadbeeffffffeed, {si_signo=SIGSEGV, si_code=SI_SIGIO, "
                     + "si_errno=ENOENT, si_band=-1234567890, si_fd=23})",
            SetSiginfo(Siginfo("s.si_signo = SIGSEGV; s.si_code = SI_SIGIO; s.si_errno = ENOENT; s.si_band = -1234567890; s.si_fd = 23;")));
        Assert.Equal("ptrace(PTRACE_SETSIGINFO, 42, 0xdeadbeeffffffeed, {si_signo=SIGPROF, si_code=0xbadc0ded, "
                     + "si_errno=4294967294, si_pid=0, si_uid=3})",
            SetSiginfo(Siginfo("s.si_signo = SIGPROF; s.si_code = 0xbadc0ded; s.si_errno = -2; s.si_uid = 3;")));
        var queued = Siginfo("s.si_signo = SIGUSR1; s.si_code = SI_QUEUE; s.si_errno = -1; s.si_pid = 25121; "
                             + "s.si_uid = -1; s.si_ptr = (void *)-1;");
        Assert.Equal("pidfd_send_signal(3, SIGUSR2, {si_signo=SIGUSR1, si_code=SI_QUEUE, si_errno=4294967295, si_pid=25121, "
                     + "si_uid=-1, si_int=-1, si_ptr=0xffffffffffffffff}, 0xffffffff)",
            Line(Ev("pidfd_send_signal", [3, 12, 0x7ffff7fbcf80, 0xffffffff], -22, false, Fixed(2, queued))));
    }

    [CompilerFact]
    public void SeccompsSigsysNamesTheCallOnItsArch()
    {
        Assert.Equal("ptrace(PTRACE_SETSIGINFO, 42, 0xdeadbeeffffffeed, {si_signo=SIGSYS, si_code=SYS_SECCOMP, "
                     + "si_errno=ENOENT, si_call_addr=NULL, si_syscall=__NR_read, si_arch=AUDIT_ARCH_X86_64})",
            SetSiginfo(CStruct.Bytes("#include <linux/signal.h>\n#include <linux/audit.h>\n#include <asm/unistd.h>\n#include <errno.h>",
                "siginfo_t", "s.si_signo = SIGSYS; s.si_code = SYS_SECCOMP; s.si_errno = ENOENT; s.si_syscall = __NR_read; "
                             + "s.si_arch = AUDIT_ARCH_X86_64;")));
        Assert.Equal("ptrace(PTRACE_SETSIGINFO, 42, 0xdeadbeeffffffeed, {si_signo=SIGSYS, si_code=SYS_SECCOMP, "
                     + "si_errno=3141592653, si_call_addr=NULL, si_syscall=0, si_arch=0xda7a1057 /* AUDIT_ARCH_??? */})",
            SetSiginfo(Siginfo("s.si_signo = SIGSYS; s.si_code = SYS_SECCOMP; s.si_errno = 3141592653U; s.si_arch = 0xda7a1057;")));
    }

    [Fact]
    public void UnreadableOrShortSiginfoIsThePointer()
    {
        Assert.Equal("ptrace(PTRACE_SETSIGINFO, 42, 0xdeadbeeffffffeed, 0x7ffff7dcaf80)",
            Line(Ev("ptrace", [0x4203, 42, 0xdeadbeeffffffeed, 0x7ffff7dcaf80], -3, false, Unreadable(3))));
        Assert.Equal("ptrace(PTRACE_SETSIGINFO, 42, NULL, NULL)", Line(Ev("ptrace", [0x4203, 42, 0, 0], -3)));
    }

    /// <summary>The remaining time is shown when the kernel wrote it: a relative sleep a signal interrupted.</summary>
    [Fact]
    public void SleepShowsTheRemainingTimeOnlyWhenInterrupted()
    {
        var req = new StructBytes(16).U64(8, 999999999).Bytes;
        var rem = new StructBytes(16).U64(8, 887750390).Bytes;
        SyscallEvent Sleep(long kernelRet, long ret) => new()
        {
            Nr = Nr("nanosleep"), Args = Pad([0x1000, 0x2000]), Ret = ret, KernelRet = kernelRet,
            Captured = [Fixed(0, req), Fixed(1, rem)],
        };
        Assert.Equal("nanosleep({tv_sec=0, tv_nsec=999999999}, {tv_sec=0, tv_nsec=887750390})", Line(Sleep(-516, -4)));
        Assert.Equal("nanosleep({tv_sec=0, tv_nsec=999999999}, 0x2000)", Line(Sleep(-22, -22)));
    }
}
