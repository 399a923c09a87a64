using Whyfail.Decoding;
using Whyfail.Events;
using Xunit;
using static Whyfail.Tests.Decoding.Kit;

namespace Whyfail.Tests.Decoding;

/// <summary>
/// sendmsg's control messages (second-level capture of msg_control), on buffers laid out by the C compiler
/// with the installed headers' CMSG_* macros, against what strace 6.1 prints for them (tests/msg_control.c).
/// </summary>
public class CmsgDecoderTests
{
    private const string Includes = "#define _GNU_SOURCE\n#include <sys/socket.h>\n#include <netinet/in.h>\n#include <linux/time_types.h>";

    /// <summary>A control buffer of <paramref name="size"/> bytes filled by C statements (c: its first cmsghdr).</summary>
    private static byte[] Control(int size, string fill, string includes = "") =>
        CStruct.Bytes(Includes + "\n" + includes, $"union {{ char buf[{size}]; struct cmsghdr align; }}",
            $"struct msghdr mh = {{ .msg_control = s.buf, .msg_controllen = sizeof s.buf }}; struct cmsghdr *c = CMSG_FIRSTHDR(&mh); {fill}");

    private static string Send(byte[] ctl, int controllen, ulong addr = 0x7000, bool faulted = false, int limit = 32) =>
        Line(Ev("sendmsg", [0xffffffff, 0x6000, 0], -9, false,
            Fixed(1, MsghdrBytes(addr, controllen)),
            new CapturedArg(1, CaptureKind.Nested, 0, ctl, controllen, faulted)), limit);

    private static byte[] MsghdrBytes(ulong addr, int controllen) =>
        CStruct.Bytes(Includes, "struct msghdr", $"s.msg_control = (void *)0x{addr:x}UL; s.msg_controllen = {controllen};");

    private static string Control(string line)
    {
        int a = line.IndexOf("msg_control=", StringComparison.Ordinal);
        int b = line.IndexOf(", msg_controllen=", StringComparison.Ordinal);
        return a < 0 ? "" : line[(a + "msg_control=".Length)..b];
    }

    [CompilerFact]
    public void ScmRightsShowsTheDescriptors()
    {
        var ctl = Control(32, "c->cmsg_len = CMSG_LEN(3 * sizeof(int)); c->cmsg_level = SOL_SOCKET; c->cmsg_type = SCM_RIGHTS; " +
                              "int fds[3] = { 0, 1, -2 }; memcpy(CMSG_DATA(c), fds, sizeof fds);");
        var line = Send(ctl, 32);
        Assert.Equal("[{cmsg_len=28, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[0, 1, -2]}]", Control(line));
        Assert.EndsWith("msg_controllen=32, msg_flags=0}, 0)", line);
    }

    [CompilerFact]
    public void AllDescriptorsAreShownAsStraceVShowsThem()
    {
        var ctl = Control(16 + 33 * 4 + 4, "c->cmsg_len = CMSG_LEN(33 * sizeof(int)); c->cmsg_level = SOL_SOCKET; c->cmsg_type = SCM_RIGHTS; " +
                                           "int *f = (int *)CMSG_DATA(c); for (int i = 0; i < 33; i++) f[i] = i;");
        var shown = Control(Send(ctl, ctl.Length));
        Assert.StartsWith("[{cmsg_len=148, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[0, 1, 2,", shown);
        Assert.EndsWith(", 30, 31, 32]}]", shown);
    }

    [CompilerFact]
    public void TwoMessagesAndLeftoverBytes()
    {
        // SCM_RIGHTS then IP_TTL, then 8 bytes that are no message: their address, as strace shows it.
        var ctl = Control(32 + 24 + 8,
            "int u[3] = { 42, 1000, -1 }; c->cmsg_len = CMSG_LEN(sizeof u); c->cmsg_level = SOL_SOCKET; " +
            "c->cmsg_type = SCM_RIGHTS; memcpy(CMSG_DATA(c), &u, sizeof u); " +
            "c = (struct cmsghdr *)((char *)c + CMSG_SPACE(sizeof u)); c->cmsg_len = CMSG_LEN(sizeof(int)); c->cmsg_level = SOL_IP; " +
            "c->cmsg_type = IP_TTL; *(unsigned *)CMSG_DATA(c) = 0xfacefeed;");
        Assert.Equal("[{cmsg_len=28, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[42, 1000, -1]}, " +
                     "{cmsg_len=20, cmsg_level=SOL_IP, cmsg_type=IP_TTL, cmsg_data=[4207869677]}, ... /* 0x7038 */]",
            Control(Send(ctl, ctl.Length)));
    }

    [CompilerFact]
    public void TimestampsAndTheirShortForms()
    {
        var ts = Control(16 + 48,
            "struct __kernel_timespec t[3] = { { 1, 2 }, { 3, 4 }, { -5, 6 } }; c->cmsg_len = CMSG_LEN(sizeof t); " +
            "c->cmsg_level = SOL_SOCKET; c->cmsg_type = SO_TIMESTAMPING_NEW; memcpy(CMSG_DATA(c), t, sizeof t);");
        Assert.Equal("[{cmsg_len=64, cmsg_level=SOL_SOCKET, cmsg_type=SO_TIMESTAMPING_NEW, cmsg_data=[{tv_sec=1, tv_nsec=2}, " +
                     "{tv_sec=3, tv_nsec=4}, {tv_sec=-5, tv_nsec=6}]}]", Control(Send(ts, ts.Length)));
        var tv = Control(32,
            "struct __kernel_old_timeval t = { 123456789, 987654 }; c->cmsg_len = CMSG_LEN(sizeof t); " +
            "c->cmsg_level = SOL_SOCKET; c->cmsg_type = SO_TIMESTAMP_OLD; memcpy(CMSG_DATA(c), &t, sizeof t);");
        Assert.Equal("[{cmsg_len=32, cmsg_level=SOL_SOCKET, cmsg_type=SO_TIMESTAMP_OLD, cmsg_data={tv_sec=123456789, tv_usec=987654}}]",
            Control(Send(tv, tv.Length)));
        // 8 bytes of data where a timeval needs 16: strace prints ???.
        var shortTv = Control(24, "c->cmsg_len = CMSG_LEN(8); c->cmsg_level = SOL_SOCKET; c->cmsg_type = SO_TIMESTAMPNS_OLD;");
        Assert.Equal("[{cmsg_len=24, cmsg_level=SOL_SOCKET, cmsg_type=SO_TIMESTAMPNS_OLD, cmsg_data=???}]",
            Control(Send(shortTv, shortTv.Length)));
    }

    [CompilerFact]
    public void IpMessages()
    {
        var pkt = Control(32,
            "struct in_pktinfo *i = (void *)CMSG_DATA(c); c->cmsg_len = CMSG_LEN(sizeof *i); c->cmsg_level = SOL_IP; " +
            "c->cmsg_type = IP_PKTINFO; i->ipi_ifindex = 0x7fffffff; i->ipi_spec_dst.s_addr = htonl(0x01020304); " +
            "i->ipi_addr.s_addr = htonl(0x05060708);");
        Assert.Equal("[{cmsg_len=28, cmsg_level=SOL_IP, cmsg_type=IP_PKTINFO, cmsg_data={ipi_ifindex=2147483647, " +
                     "ipi_spec_dst=inet_addr(\"1.2.3.4\"), ipi_addr=inet_addr(\"5.6.7.8\")}}]", Control(Send(pkt, pkt.Length)));
        var opts = Control(24, "c->cmsg_len = CMSG_LEN(3); c->cmsg_level = SOL_IP; c->cmsg_type = IP_RETOPTS; " +
                               "memcpy(CMSG_DATA(c), \"ABC\", 3);");
        Assert.Equal("[{cmsg_len=19, cmsg_level=SOL_IP, cmsg_type=IP_RETOPTS, cmsg_data=[0x41, 0x42, 0x43]}]",
            Control(Send(opts, opts.Length)));
        var err = Control(16 + 32,
            "struct { struct sock_extended_err e; struct sockaddr_in sin; } *x = (void *)CMSG_DATA(c); " +
            "c->cmsg_len = CMSG_LEN(sizeof *x); c->cmsg_level = SOL_IP; c->cmsg_type = IP_RECVERR; x->e.ee_errno = 111; " +
            "x->e.ee_origin = 2; x->e.ee_type = 3; x->e.ee_code = 4; x->e.ee_info = 5; x->e.ee_data = 6; " +
            "x->sin.sin_family = AF_INET; x->sin.sin_port = htons(12345); x->sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);",
            "#include <linux/errqueue.h>");
        Assert.Equal("[{cmsg_len=48, cmsg_level=SOL_IP, cmsg_type=IP_RECVERR, cmsg_data={ee_errno=111, ee_origin=2, ee_type=3, " +
                     "ee_code=4, ee_info=5, ee_data=6, offender={sa_family=AF_INET, sin_port=htons(12345), " +
                     "sin_addr=inet_addr(\"127.0.0.1\")}}}]", Control(Send(err, err.Length)));
    }

    [CompilerFact]
    public void UnknownLevelsAndTypes()
    {
        var tcp = Control(16, "c->cmsg_len = CMSG_LEN(0); c->cmsg_level = IPPROTO_TCP; c->cmsg_type = 0xfacefeed;");
        Assert.Equal("[{cmsg_len=16, cmsg_level=SOL_TCP, cmsg_type=0xfacefeed}]", Control(Send(tcp, 16)));
        var scm = Control(16, "c->cmsg_len = CMSG_LEN(0); c->cmsg_level = SOL_SOCKET; c->cmsg_type = 0xfacefeed;");
        Assert.Equal("[{cmsg_len=16, cmsg_level=SOL_SOCKET, cmsg_type=0xfacefeed /* SCM_??? */}]", Control(Send(scm, 16)));
    }

    [CompilerFact]
    public void ScmSecurityIsNamedFromTheKernelInternalTable()
    {
        // SCM_SECURITY (3) is declared in the kernel's include/linux/socket.h only, not in the UAPI headers; the
        // program spells the number as strace's msg_control.c does. Its data is the label, shown whole as a string.
        var scm = Control(24, "c->cmsg_len = CMSG_LEN(5); c->cmsg_level = SOL_SOCKET; c->cmsg_type = 3; memcpy(CMSG_DATA(c), \"ab\\0cd\", 5);");
        Assert.Equal("[{cmsg_len=21, cmsg_level=SOL_SOCKET, cmsg_type=SCM_SECURITY, cmsg_data=\"ab\\0cd\"}]", Control(Send(scm, 24)));
        var ip = Control(16, "c->cmsg_len = CMSG_LEN(0); c->cmsg_level = SOL_IP; c->cmsg_type = 3;");
        Assert.Equal("[{cmsg_len=16, cmsg_level=SOL_IP, cmsg_type=SCM_SECURITY}]", Control(Send(ip, 16)));
        Assert.Equal(3UL, Xlat.Table("scm_types")["SCM_SECURITY"]);
    }

    [CompilerFact]
    public void ShortOrUnreadableBuffersAreShownByAddress()
    {
        var ctl = Control(16, "c->cmsg_len = CMSG_LEN(0); c->cmsg_level = SOL_SOCKET; c->cmsg_type = SCM_RIGHTS;");
        // Shorter than one header: strace does not read it.
        Assert.Equal("0x7000", Control(Send(ctl[..12], 12)));
        // Ran into an unmapped page: strace's read of the whole buffer fails, it prints the address.
        Assert.Equal("0x7000", Control(Send(ctl[..8], 16, faulted: true)));
        // Not copied at all (an old capture, or the copy failed).
        var line = Line(Ev("sendmsg", [0xffffffff, 0x6000, 0], -9, false, Fixed(1, MsghdrBytes(0x7000, 16))));
        Assert.Equal("0x7000", Control(line));
        // A cmsg_len below the header's size: one message, then the rest of the buffer by address.
        var bad = Control(32, "c->cmsg_len = 8; c->cmsg_level = SOL_SOCKET; c->cmsg_type = SCM_RIGHTS;");
        Assert.Equal("[{cmsg_len=8, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS}, ... /* 0x7010 */]", Control(Send(bad, 32)));
    }

    [Fact]
    public void SendmsgAsksForTheControlBufferAsANestedCopy()
    {
        var spec = Decoder.CaptureSpecFor(Nr("sendmsg"))!;
        Assert.Equal(1, spec.NestedArg);
        Assert.Equal(Xlat.Struct("msghdr").Off("msg_control"), spec.NestedPtr[0]);
        Assert.Equal(Xlat.Struct("msghdr").Off("msg_controllen"), spec.NestedLen[0]);
        Assert.Equal(8, spec.NestedLenSize[0]);
        Assert.True(spec.NestedSize[0] > 0);
    }
}
