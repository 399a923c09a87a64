using Whyfail.Events;
using Xunit;
using static Whyfail.Tests.Decoding.Kit;
using Encoding = System.Text.Encoding;

namespace Whyfail.Tests.Decoding;

/// <summary>
/// syslog, ICMP_FILTER, ioctl request names shared by several subsystems, the ioctl structures of IoctlStructs and the
/// sockaddr families, on bytes laid out by the C compiler from the installed headers; expectations as strace 6.1 prints.
/// </summary>
public class IoctlStructSockaddrDecoderTests
{
    private const ulong P = 0x7ffff7dc4f00;
    private const ulong Fd = 0xffffffff;

    [Fact]
    public void SyslogActionsAndConsoleLevels()
    {
        Assert.Equal("syslog(8 /* SYSLOG_ACTION_CONSOLE_LEVEL */, 0xfacefeeddeadbeef, 9 /* LOGLEVEL_??? */)",
            Line(Ev("syslog", [8, 0xfacefeeddeadbeef, 9], -22)));
        Assert.Equal("syslog(8 /* SYSLOG_ACTION_CONSOLE_LEVEL */, 0xfacefeeddeadbeef, 0 /* LOGLEVEL_EMERG */)",
            Line(Ev("syslog", [8, 0xfacefeeddeadbeef, 0], -22)));
        Assert.Equal("syslog(-17973521 /* SYSLOG_ACTION_??? */, NULL, -1)", Line(Ev("syslog", [0xfeedbeef, 0, 0xffffffff], -22)));
        // the actions that ignore bufp and len show neither
        Assert.Equal("syslog(5 /* SYSLOG_ACTION_CLEAR */)", Line(Ev("syslog", [5, P, 10], -1)));
        Assert.Equal("syslog(2 /* SYSLOG_ACTION_READ */, 0x7ffff7dc4f00, 10)", Line(Ev("syslog", [2, P, 10], -1)));
    }

    [CompilerFact]
    public void IcmpFilterAsASetOfTypes()
    {
        const string inc = "#include <linux/icmp.h>";
        var some = CStruct.Bytes(inc, "struct icmp_filter", "s.data = (1 << ICMP_ECHOREPLY) | (1 << ICMP_DEST_UNREACH) | (1 << ICMP_TIME_EXCEEDED);");
        Assert.Equal("setsockopt(-1, SOL_RAW, ICMP_FILTER, [ICMP_ECHOREPLY ICMP_DEST_UNREACH ICMP_TIME_EXCEEDED], 4)",
            Line(Ev("setsockopt", [Fd, 255, 1, P, 4], -9, false, Sized(3, some))));
        var most = CStruct.Bytes(inc, "struct icmp_filter", "s.data = ~((1 << ICMP_ECHO) | (1 << 1));");
        Assert.Equal("setsockopt(-1, SOL_RAW, ICMP_FILTER, ~[0x1 /* ICMP_??? */ ICMP_ECHO], 4)",
            Line(Ev("setsockopt", [Fd, 255, 1, P, 4], -9, false, Sized(3, most))));
        Assert.Equal("setsockopt(-1, SOL_RAW, ICMP_FILTER, ~[], 4)",
            Line(Ev("setsockopt", [Fd, 255, 1, P, 4], -9, false, Sized(3, Le32(0xffffffff)))));
        Assert.Equal("setsockopt(-1, SOL_RAW, ICMP_FILTER, [], 4)",
            Line(Ev("setsockopt", [Fd, 255, 1, P, 4], -9, false, Sized(3, Le32(0)))));
    }

    [Fact]
    public void IoctlNumbersWithSeveralNames()
    {
        Assert.Equal("ioctl(3, SNDCTL_TMR_START or TCSETS, NULL)", Line(Ev("ioctl", [3, 0x5402, 0], -14)));
        Assert.Equal("ioctl(3, SNDCTL_TMR_CONTINUE or TCSETSF, 0x7ffff7dc4f00)", Line(Ev("ioctl", [3, 0x5404, P], -14)));
        Assert.Equal("ioctl(-1, FASTRPC_IOCTL_INIT_ATTACH or RNDZAPENTCNT)", Line(Ev("ioctl", [Fd, 0x5204, 0], -9)));
        Assert.Equal("ioctl(-1, HIDIOCGRDESCSIZE or HIDIOCGVERSION, 0x7ffff7dc4f00)", Line(Ev("ioctl", [Fd, 0x80044801, P], -9)));
        Assert.Equal("ioctl(-1, HIDIOCGPHYS(8), 0x7ffff7dc4f00)", Line(Ev("ioctl", [Fd, 0x80084812, P], -9)));
        Assert.Equal("ioctl(-1, MMTIMER_GETRES, 0x7ffff7dc4f00)", Line(Ev("ioctl", [Fd, 0x80086d01, P], -9)));
        Assert.Equal("ioctl(-1, MIXER_READ(13) or OTPSELECT, [MTD_OTP_OFF])",
            Line(Ev("ioctl", [Fd, 0x80044d0d, P], -9, false, Fixed(2, Le32(0)))));
        // one name stays one name
        Assert.Equal("ioctl(1, TCGETS, 0x7ffff7dc4f00)", Line(Ev("ioctl", [1, 0x5401, P], -25)));
    }

    [CompilerFact]
    public void FiemapAndLoopStructures()
    {
        var fm = CStruct.Bytes("#include <linux/fiemap.h>", "struct fiemap",
            "s.fm_start = 0xdeadbeefcafef00dULL; s.fm_length = 4096; s.fm_flags = FIEMAP_FLAG_SYNC | 0x100; s.fm_extent_count = 3735929054U;");
        Assert.Equal("ioctl(-1, FS_IOC_FIEMAP, {fm_start=16045690984503111693, fm_length=4096, fm_flags=FIEMAP_FLAG_SYNC|0x100, fm_extent_count=3735929054})",
            Line(Ev("ioctl", [Fd, 0xc020660b, P], -9, false, Fixed(2, fm))));

        var li = CStruct.Bytes("#include <linux/loop.h>", "struct loop_info",
            "s.lo_number = -1; s.lo_device = 0x8f8e8d8c8b8a8988UL; s.lo_inode = 7; s.lo_rdevice = 0x801; s.lo_offset = 0xa3a2a1a0;"
            + " s.lo_encrypt_type = 0xa7a6a5a4; s.lo_encrypt_key_size = 1; s.lo_flags = 0xdeface00; s.lo_init[0] = 0x10; s.reserved[1] = 0xa1;");
        Assert.Equal("ioctl(-1, LOOP_SET_STATUS, {lo_number=-1, lo_device=makedev(0x8f8e8a89, 0xd8c8b888), lo_inode=7, "
                     + "lo_rdevice=makedev(0x8, 0x1), lo_offset=0xa3a2a1a0, lo_encrypt_type=0xa7a6a5a4 /* LO_CRYPT_??? */, "
                     + "lo_encrypt_key_size=1, lo_flags=0xdeface00 /* LO_FLAGS_??? */, lo_name=\"\", lo_encrypt_key=\"\\0\", "
                     + "lo_init=[0x10, 0], reserved=[0, 0xa1, 0, 0]})",
            Line(Ev("ioctl", [Fd, 0x4C02, P], -9, false, Fixed(2, li))));

        const string fill64 = "s.lo_offset = 0x10; s.lo_sizelimit = 5; s.lo_number = 2880088488U; s.lo_encrypt_key_size = 40;"
                              + " s.lo_flags = LO_FLAGS_READ_ONLY; memset(s.lo_file_name, 'C', sizeof s.lo_file_name);"
                              + " strcpy((char *)s.lo_crypt_name, \"aes\"); memset(s.lo_encrypt_key, 'E', sizeof s.lo_encrypt_key);";
        const string info64 = "lo_device=makedev(0, 0), lo_inode=0, lo_rdevice=makedev(0, 0), lo_offset=0x10, lo_sizelimit=5, "
                              + "lo_number=2880088488, lo_encrypt_type=LO_CRYPT_NONE, lo_encrypt_key_size=40, lo_flags=LO_FLAGS_READ_ONLY, "
                              + "lo_file_name=\"CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC\"..., lo_crypt_name=\"aes\", "
                              + "lo_encrypt_key=\"EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEE\", lo_init=[0, 0]}";
        var l64 = CStruct.Bytes("#include <linux/loop.h>", "struct loop_info64", fill64);
        Assert.Equal("ioctl(-1, LOOP_SET_STATUS64, {" + info64 + ")", Line(Ev("ioctl", [Fd, 0x4C04, P], -9, false, Fixed(2, l64))));

        var cfg = CStruct.Bytes("#include <linux/loop.h>", "struct loop_config",
            "s.fd = -2; s.block_size = 4096; " + fill64.Replace("s.lo_", "s.info.lo_") + " s.__reserved[7] = 0xaf;");
        Assert.Equal("ioctl(-1, LOOP_CONFIGURE, {fd=-2, block_size=4096, info={" + info64 + ", __reserved=[0, 0, 0, 0, 0, 0, 0, 0xaf]})",
            Line(Ev("ioctl", [Fd, 0x4C0A, P], -9, false, Fixed(2, cfg))));
        // a structure that ends at an unreadable page: the pointer
        Assert.Equal("ioctl(-1, LOOP_CONFIGURE, 0x7ffff7dc4f00)",
            Line(Ev("ioctl", [Fd, 0x4C0A, P], -9, true, Fixed(2, cfg[..100]))));
    }

    [CompilerFact]
    public void RandomEvdevBlockAndPerfStructures()
    {
        var pool = CStruct.Bytes("#include <linux/random.h>", "struct { struct rand_pool_info i; char b[8]; }",
            "s.i.entropy_count = 3; s.i.buf_size = 8; memcpy(s.b, \"12345678\", 8);");
        Assert.Equal("ioctl(-1, RNDADDENTROPY, {entropy_count=3, buf_size=8, buf=\"12345678\"})",
            Line(Ev("ioctl", [Fd, 0x40085203, P], -9, false, Fixed(2, pool))));

        Assert.Equal("ioctl(-1, EVIOCSKEYCODE, [3735928559, KEY_ESC])",
            Line(Ev("ioctl", [Fd, 0x40084504, P], -9, false, Fixed(2, [.. Le32(0xdeadbeef), .. Le32(1)]))));
        var key = CStruct.Bytes("#include <linux/input.h>", "struct input_keymap_entry",
            "s.flags = 128; s.len = 3; s.index = 33666; s.keycode = KEY_1; s.scancode[0] = 0x88; s.scancode[2] = 0x8a;");
        Assert.Equal("ioctl(-1, EVIOCSKEYCODE_V2, {flags=128, len=3, index=33666, keycode=KEY_1, scancode=[0x88, 0, 0x8a]})",
            Line(Ev("ioctl", [Fd, 0x40284504, P], -9, false, Fixed(2, key))));

        var trace = CStruct.Bytes("#include <linux/blktrace_api.h>", "struct blk_user_trace_setup",
            "s.act_mask = 41376; s.buf_size = 2812716452U; s.buf_nr = 3; s.start_lba = 1; s.end_lba = 13816689325120338360ULL; s.pid = 4242;");
        Assert.Equal("ioctl(-1, BLKTRACESETUP, {act_mask=41376, buf_size=2812716452, buf_nr=3, start_lba=1, end_lba=13816689325120338360, pid=4242})",
            Line(Ev("ioctl", [Fd, 0xc0481273, P], -9, false, Fixed(2, trace))));
        var blkpg = CStruct.Bytes("#include <linux/blkpg.h>", "struct blkpg_ioctl_arg",
            "s.op = BLKPG_RESIZE_PARTITION; s.flags = -559038737; s.datalen = -1159983635; s.data = (void *)0xcafef00dfffffeedULL;");
        Assert.Equal("ioctl(-1, BLKPG, {op=BLKPG_RESIZE_PARTITION, flags=-559038737, datalen=-1159983635, data=0xcafef00dfffffeed})",
            Line(Ev("ioctl", [Fd, 0x1269, P], -9, false, Fixed(2, blkpg))));

        Assert.Equal("ioctl(-1, PERF_EVENT_IOC_QUERY_BPF, {ids_len=3134983661, ...})",
            Line(Ev("ioctl", [Fd, 0xc008240a, P], -9, true, Fixed(2, Le32(3134983661)))));
    }

    [CompilerFact]
    public void IfreqHardwareAddress()
    {
        var ifr = CStruct.Bytes("#include <sys/socket.h>\n#include <linux/if.h>\n#include <linux/if_arp.h>", "struct ifreq",
            "strcpy(s.ifr_name, \"eth0\"); s.ifr_hwaddr.sa_family = ARPHRD_ETHER;"
            + " for (int i = 0; i < 14; i++) s.ifr_hwaddr.sa_data[i] = (char)(0x92 + i);");
        Assert.Equal("ioctl(-1, SIOCSIFHWADDR, {ifr_name=\"eth0\", ifr_hwaddr={sa_family=ARPHRD_ETHER, sa_data=92:93:94:95:96:97}})",
            Line(Ev("ioctl", [Fd, 0x8924, P], -9, false, Fixed(2, ifr))));
    }

    private static string Connect(byte[] addr) =>
        Line(Ev("connect", [Fd, P, (ulong)addr.Length], -9, false, Sized(1, addr)));

    [CompilerFact]
    public void SockaddrFamiliesAndShortLengths()
    {
        var nl = CStruct.Bytes("#include <sys/socket.h>\n#include <linux/netlink.h>", "struct sockaddr_nl",
            "s.nl_family = AF_NETLINK; s.nl_pad = 0xffff; s.nl_pid = 1234567890; s.nl_groups = 0xfacefeed;");
        Assert.Equal("connect(-1, {sa_family=AF_NETLINK, nl_pad=0xffff, nl_pid=1234567890, nl_groups=0xfacefeed}, 12)", Connect(nl));
        // shorter than the family's structure: the bytes after the family
        Assert.Equal("connect(-1, {sa_family=AF_NETLINK, sa_data=\"\\377\\377\\322\\2\\226I\\355\\376\\316\"}, 11)", Connect(nl[..11]));

        var ipx = CStruct.Bytes("#include <sys/socket.h>\n#include <netipx/ipx.h>", "struct sockaddr_ipx",
            "s.sipx_family = AF_IPX; s.sipx_port = htons(12345); s.sipx_network = htonl(0xfacefeed);"
            + " memcpy(s.sipx_node, \"ABCDEF\", 6); s.sipx_type = 0xff; s.sipx_zero = 0x42;");
        Assert.Equal("connect(-1, {sa_family=AF_IPX, sipx_port=htons(12345), sipx_network=htonl(0xfacefeed), "
                     + "sipx_node=[0x41, 0x42, 0x43, 0x44, 0x45, 0x46], sipx_type=0xff, sipx_zero=0x42}, 16)", Connect(ipx));

        var x25 = CStruct.Bytes("#include <sys/socket.h>\n#include <linux/x25.h>", "struct sockaddr_x25",
            "s.sx25_family = AF_X25; memcpy(s.sx25_addr.x25_addr, \"0123456789abcdef\", 16);");
        Assert.Equal("connect(-1, {sa_family=AF_X25, sx25_addr={x25_addr=\"0123456789abcde\"...}}, 18)", Connect(x25));

        var ll = CStruct.Bytes("#include <sys/socket.h>\n#include <linux/if_packet.h>\n#include <linux/if_ether.h>\n#include <linux/if_arp.h>\n#include <arpa/inet.h>",
            "struct sockaddr_ll",
            "s.sll_family = AF_PACKET; s.sll_protocol = htons(ETH_P_ALL); s.sll_ifindex = 0xfacefeed; s.sll_hatype = ARPHRD_ETHER;"
            + " s.sll_pkttype = PACKET_HOST; s.sll_halen = 9; memcpy(s.sll_addr, \"abcdefgh\", 8);");
        Assert.Equal("connect(-1, {sa_family=AF_PACKET, sll_protocol=htons(ETH_P_ALL), sll_ifindex=4207869677, sll_hatype=ARPHRD_ETHER, "
                     + "sll_pkttype=PACKET_HOST, sll_halen=9, sll_addr=[0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, ...]}, 20)", Connect(ll));

        var in4 = CStruct.Bytes("#include <netinet/in.h>", "struct sockaddr_in", "s.sin_family = AF_INET; s.sin_zero[0] = 1;");
        Assert.Equal("connect(-1, {sa_family=AF_INET, sa_data=\"\\0\\0\\0\\0\\0\\0\\1\\0\\0\\0\"}, 12)", Connect(in4[..12]));
    }

    [CompilerFact]
    public void Ax25CallsignsAndDigipeaters()
    {
        const string call = "static const char c[] = \"VALID \"; for (int i = 0; i < 6; i++) s.fsa_ax25.sax25_call.ax25_call[i] = c[i] << 1;"
                            + " s.fsa_ax25.sax25_call.ax25_call[6] = 13 << 1; s.fsa_ax25.sax25_family = AF_AX25;";
        const string digis = " static const char d[] = \"OK    \"; for (int i = 0; i < 6; i++) { s.fsa_digipeater[0].ax25_call[i] = d[i] << 1;"
                             + " s.fsa_digipeater[1].ax25_call[i] = ' ' << 1; s.fsa_digipeater[2].ax25_call[i] = 1; }"
                             + " s.fsa_digipeater[0].ax25_call[6] = 15 << 1;";
        const string inc = "#include <sys/socket.h>\n#include <linux/ax25.h>";
        var plain = CStruct.Bytes(inc, "struct full_sockaddr_ax25", call);
        Assert.Equal("connect(-1, {sa_family=AF_AX25, sax25_call=VALID-13, sax25_ndigis=0}, 16)", Connect(plain[..16]));
        var two = CStruct.Bytes(inc, "struct full_sockaddr_ax25", call + digis + " s.fsa_ax25.sax25_ndigis = 2;");
        Assert.Equal("connect(-1, {sa_family=AF_AX25, fsa_ax25={sax25_call=VALID-13, sax25_ndigis=2}, fsa_digipeater=[OK-15, *]}, 30)",
            Connect(two[..30]));
        // three asked for, two within the length, one byte more: the third is "...", and so is the byte after them
        var three = CStruct.Bytes(inc, "struct full_sockaddr_ax25", call + digis + " s.fsa_ax25.sax25_ndigis = 3;");
        Assert.Equal("connect(-1, {sa_family=AF_AX25, fsa_ax25={sax25_call=VALID-13, sax25_ndigis=3}, fsa_digipeater=[OK-15, *, ...], ...}, 31)",
            Connect(three[..31]));
        // an unprintable callsign: its bytes alone
        Assert.Equal("connect(-1, {sa_family=AF_AX25, fsa_ax25={sax25_call=VALID-13, sax25_ndigis=3}, fsa_digipeater=[OK-15, *, "
                     + "{ax25_call=\"\\x01\\x01\\x01\\x01\\x01\\x01\\x00\"}]}, 37)", Connect(three[..37]));
    }

    [Fact]
    public void APathOfPathMaxMinusOneBytesIsWhole()
    {
        var path = new string('7', 4095);
        // the kernel side found the path's NUL right after the buffer: full_len = the length
        var whole = new CapturedArg(1, CaptureKind.String, 0, Encoding.ASCII.GetBytes(path), 4095);
        Assert.Equal($"open_tree(4, \"{path}\", 0)", Line(Ev("open_tree", [4, P, 0], -2, true, whole)));
        // it went on: "..."
        var longer = new CapturedArg(1, CaptureKind.String, 0, Encoding.ASCII.GetBytes(path), 4097);
        Assert.Equal($"open_tree(4, \"{path}\"..., 0)", Line(Ev("open_tree", [4, P, 0], -36, true, longer)));
    }
}
