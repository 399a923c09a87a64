using Whyfail.Events;
using Xunit;
using static Whyfail.Tests.Decoding.Kit;

namespace Whyfail.Tests.Decoding;

/// <summary>
/// Classic BPF programs (seccomp, SO_ATTACH_REUSEPORT_CBPF), poll's pollfd array, pselect6's sigset pack, timer_create's
/// sigevent and PR_SET_DUMPABLE, on bytes the C compiler lays out from the installed headers; expected lines as strace 6.1
/// prints the same values (tests/seccomp-filter-v.c, sock_filter-v.c, poll.c, pselect6.c, timer_create.c, prctl-dumpable.c).
/// </summary>
public class FilterAndWaitDecoderTests
{
    private static CapturedArg Nested(int arg, byte[] b, bool faulted = false) => new(arg, CaptureKind.Nested, 0, b, b.Length, faulted);

    private static byte[] Fprog(ushort len, ulong filter) => new StructBytes(16).U16(0, len).U64(8, filter).Bytes;

    [CompilerFact]
    public void SocketFilterNamesAncillaryOffsets()
    {
        var insns = CStruct.Bytes("#include <linux/filter.h>", "struct { struct sock_filter f[4]; }",
            "struct sock_filter f[4] = { BPF_STMT(BPF_LD|BPF_B|BPF_ABS, SKF_LL_OFF + 4), "
            + "BPF_STMT(BPF_LD|BPF_B|BPF_ABS, SKF_AD_OFF + SKF_AD_PROTOCOL), BPF_JUMP(BPF_JMP|BPF_K|BPF_JEQ, 0x11, 0, 5), "
            + "BPF_STMT(BPF_RET|BPF_K, 0xffffffff) }; memcpy(&s, f, sizeof f);");
        var ev = Ev("setsockopt", [3, 1 /* SOL_SOCKET */, 51 /* SO_ATTACH_REUSEPORT_CBPF */, 0x7000, 16], -22, false,
            Sized(3, Fprog(4, 0x9000)), Nested(3, insns));
        Assert.Equal("setsockopt(3, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, {len=4, filter=[BPF_STMT(BPF_LD|BPF_B|BPF_ABS, SKF_LL_OFF+4), "
                     + "BPF_STMT(BPF_LD|BPF_B|BPF_ABS, SKF_AD_OFF+SKF_AD_PROTOCOL), BPF_JUMP(BPF_JMP|BPF_K|BPF_JEQ, 0x11, 0, 0x5), "
                     + "BPF_STMT(BPF_RET|BPF_K, 0xffffffff)]}, 16)", Line(ev));
    }

    [CompilerFact]
    public void SeccompFilterNamesActionsAndUnknownOpcodeBits()
    {
        var insns = CStruct.Bytes("#include <linux/filter.h>\n#include <linux/seccomp.h>\n#include <errno.h>", "struct { struct sock_filter f[3]; }",
            "struct sock_filter f[3] = { BPF_STMT(BPF_RET|BPF_K, SECCOMP_RET_ERRNO | EPERM), BPF_STMT(BPF_RET|BPF_K, SECCOMP_RET_ALLOW), "
            + "{ 0xffff, 0xff, 0xff, 0xffffffff } }; memcpy(&s, f, sizeof f);");
        var ev = Ev("seccomp", [1 /* SECCOMP_SET_MODE_FILTER */, 0, 0x7000], -22, false, Fixed(2, Fprog(3, 0x9000)), Nested(2, insns));
        Assert.Equal("seccomp(SECCOMP_SET_MODE_FILTER, 0, {len=3, filter=[BPF_STMT(BPF_RET|BPF_K, SECCOMP_RET_ERRNO|0x1), "
                     + "BPF_STMT(BPF_RET|BPF_K, SECCOMP_RET_ALLOW), "
                     + "BPF_JUMP(BPF_MISC|0xf8 /* BPF_??? */|0xff00 /* BPF_??? */, 0xffffffff, 0xff, 0xff)]})", Line(ev));
        // The instructions ran into an unreadable page after the first: the rest is marked with its address.
        var cut = Ev("seccomp", [1, 0, 0x7000], -14, false, Fixed(2, Fprog(3, 0x9000)), Nested(2, insns[..8], faulted: true));
        Assert.Equal("seccomp(SECCOMP_SET_MODE_FILTER, 0, {len=3, filter=[BPF_STMT(BPF_RET|BPF_K, SECCOMP_RET_ERRNO|0x1), ... /* 0x9008 */]})",
            Line(cut));
        Assert.Equal("seccomp(SECCOMP_SET_MODE_FILTER, 0, {len=3, filter=0x9000})",
            Line(Ev("seccomp", [1, 0, 0x7000], -14, false, Fixed(2, Fprog(3, 0x9000)))));
    }

    [CompilerFact]
    public void PollShowsTheReadablePrefix()
    {
        var fds = CStruct.Bytes("#include <poll.h>", "struct { struct pollfd f[2]; }",
            "s.f[0].fd = -5; s.f[1].fd = 0; s.f[1].events = POLLIN | POLLOUT;");
        Assert.Equal("poll([{fd=-5}, {fd=0, events=POLLIN|POLLOUT}], 2, 0)",
            Line(Ev("poll", [0x7000, 2, 0], -22, false, Fixed(0, fds))));
        Assert.Equal("poll([{fd=-5}, ... /* 0x7008 */], 2, 0)",
            Line(Ev("poll", [0x7000, 2, 0], -14, false, new CapturedArg(0, CaptureKind.Fixed, 0, fds[..8], 256, true))));
        Assert.Equal("poll(0x7000, 1, 0)", Line(Ev("poll", [0x7000, 1, 0], -14, false, Unreadable(0))));
    }

    [Fact]
    public void Pselect6ShowsTheTimeoutAsPassedAndTheSigsetPack()
    {
        var ts = new StructBytes(16).U64(8, 222222222).Bytes;
        var left = new StructBytes(16).U64(8, 1234).Bytes;
        var pack = new StructBytes(16).U64(0, 0x8000).U64(8, 8).Bytes;
        var set = Le64((1UL << 0) | (1UL << 16)); // SIGHUP, SIGCHLD
        var ev = new SyscallEvent
        {
            Nr = Nr("pselect6"), Args = Pad([0, 0, 0, 0, 0x7000, 0x7100]), Ret = -4, KernelRet = -514,
            Captured = [Fixed(4, left), new CapturedArg(4, CaptureKind.Entry, 0, ts, 16), Fixed(5, pack), Nested(5, set)],
        };
        Assert.Equal("pselect6(0, NULL, NULL, NULL, {tv_sec=0, tv_nsec=222222222}, {sigmask=[HUP CHLD], sigsetsize=8})", Line(ev));
        var nullMask = new StructBytes(16).U64(8, 8).Bytes;
        Assert.Equal("pselect6(-1, NULL, 0x5000, NULL, NULL, {sigmask=NULL, sigsetsize=8})",
            Line(Ev("pselect6", [ulong.MaxValue, 0, 0x5000, 0, 0, 0x7100], -22, false, Fixed(5, nullMask))));
    }

    [CompilerFact]
    public void TimerCreateSigevent()
    {
        var bad = CStruct.Bytes("#include <signal.h>", "struct sigevent",
            "s.sigev_notify = 0xdefaced; s.sigev_signo = 0xfacefeed; s.sigev_value.sival_ptr = (void *)0xdeadbeefbadc0dedULL;");
        Assert.Equal("timer_create(CLOCK_REALTIME, {sigev_value={sival_int=-1159983635, sival_ptr=0xdeadbeefbadc0ded}, "
                     + "sigev_signo=4207869677, sigev_notify=0xdefaced /* SIGEV_??? */}, NULL)",
            Line(Ev("timer_create", [0, 0x7000, 0], -22, false, Fixed(1, bad))));
        var thread = CStruct.Bytes("#include <signal.h>", "struct sigevent",
            "s.sigev_notify = SIGEV_THREAD; s.sigev_signo = SIGALRM; s.sigev_notify_function = (void *)0x1000; "
            + "s.sigev_notify_attributes = (void *)0x2000;");
        Assert.Equal("timer_create(CLOCK_MONOTONIC, {sigev_value={sival_int=0, sival_ptr=NULL}, sigev_signo=SIGALRM, "
                     + "sigev_notify=SIGEV_THREAD, sigev_notify_function=0x1000, sigev_notify_attributes=0x2000}, 0x7100)",
            Line(Ev("timer_create", [1, 0x7000, 0x7100], -22, false, Fixed(1, thread))));
    }

    [Fact]
    public void DumpableNamesTheKernelsValues()
    {
        Assert.Equal("prctl(PR_SET_DUMPABLE, SUID_DUMP_ROOT)", Line(Ev("prctl", [4, 2], -22)));
        Assert.Equal("prctl(PR_SET_DUMPABLE, 0x3 /* SUID_DUMP_??? */)", Line(Ev("prctl", [4, 3], -22)));
    }
}
