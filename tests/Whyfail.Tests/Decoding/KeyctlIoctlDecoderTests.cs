using System.Text;
using Xunit;
using static Whyfail.Tests.Decoding.Kit;

namespace Whyfail.Tests.Decoding;

/// <summary>
/// keyctl by command and ioctl requests beyond the common table, against strace 6.1's output for the same calls
/// (tests/keyctl.c, ioctl_evdev.c, ioctl_loop.c, ioctl_block.c, ioctl_tiocm.c in strace's suite).
/// </summary>
public class KeyctlIoctlDecoderTests
{
    private const ulong P = 0x7ffff7d80000;
    private static ulong Neg(long v) => unchecked((ulong)v);
    private static byte[] Z(string s) => Encoding.ASCII.GetBytes(s + "\0");

    [Fact]
    public void KeyctlCommandsShowTheirArgumentsAsTheCommandReadsThem()
    {
        Assert.Equal("keyctl(0xfacefeed /* KEYCTL_??? */, 0xdeadfee1badc0de5, 0xdeadfee2badc0de6, 0xdeadfee3badc0de7, 0xdeadfee4badc0de8)",
            Line(Ev("keyctl", [0xfacefeed, 0xdeadfee1badc0de5, 0xdeadfee2badc0de6, 0xdeadfee3badc0de7, 0xdeadfee4badc0de8], -95)));
        Assert.Equal("keyctl(KEYCTL_GET_KEYRING_ID, -557785390, -1)",
            Line(Ev("keyctl", [0, 0xdeadc0dedec0ded2, 0xbadc0dedffffffff], -22)));
        Assert.Equal("keyctl(KEYCTL_UPDATE, KEY_SPEC_REQUESTOR_KEYRING, NULL, 0)",
            Line(Ev("keyctl", [2, Neg(-8), 0, 0], -126)));
        Assert.Equal("keyctl(KEYCTL_REVOKE, KEY_SPEC_GROUP_KEYRING)", Line(Ev("keyctl", [3, 0xfffffffa], -22)));
        Assert.Equal("keyctl(KEYCTL_CHOWN, -559026163, 2718281828, -1)",
            Line(Ev("keyctl", [4, 0xdeadf00d, 2718281828, 0xffffffff], -22)));
        Assert.Equal("keyctl(KEYCTL_SET_REQKEY_KEYRING, -1159983635 /* KEY_REQKEY_DEFL_??? */)",
            Line(Ev("keyctl", [14, 0xbadc0dedbadc0ded], -22)));
        Assert.Equal("keyctl(KEYCTL_REJECT, -557785390, 3134983661, ENODEV, -557785390)",
            Line(Ev("keyctl", [19, 0xdec0ded2, 0xbadc0ded, 19, 0xdec0ded2], -1)));
        Assert.Equal("keyctl(KEYCTL_MOVE, KEY_SPEC_THREAD_KEYRING, -1159983635, KEY_SPEC_THREAD_KEYRING, KEYCTL_MOVE_EXCL|0xfffffffe)",
            Line(Ev("keyctl", [30, 0xffffffff, 0xbadc0ded, 0xffffffff, 0xffffffff], -22)));
        Assert.Equal("keyctl(KEYCTL_SESSION_TO_PARENT)", Line(Ev("keyctl", [18], -1)));
    }

    [Fact]
    public void KeyctlStringsAndPayloadsComeFromTheCopiedBytes()
    {
        // SEARCH: two C strings; the second cut at -s with "..."
        Assert.Equal("keyctl(KEYCTL_SEARCH, 0, \"shrt type\", \"AbCdEfGhIjKlMnOpQrStUvWxYz012345\"..., KEY_SPEC_USER_SESSION_KEYRING)",
            Line(Ev("keyctl", [10, 0, P, P + 0x100, 0xfffffffb], -22, false,
                Fixed(2, Z("shrt type")), Fixed(3, Z("AbCdEfGhIjKlMnOpQrStUvWxYz0123456789")))));
        // a string whose NUL lies past an unreadable page: the pointer, as strace
        Assert.Equal("keyctl(KEYCTL_JOIN_SESSION_KEYRING, 0x7ffff7fbcffb)",
            Line(Ev("keyctl", [1, 0x7ffff7fbcffb], -14, true,
                new Whyfail.Events.CapturedArg(1, Whyfail.Events.CaptureKind.Fixed, 0, Encoding.ASCII.GetBytes("abcde"), 256, true))));
        // UPDATE: the payload by its length
        Assert.Equal("keyctl(KEYCTL_UPDATE, -557785390, \"shrt desc\", 9)",
            Line(Ev("keyctl", [2, 0xdec0ded2, P, 9], -22, false, Fixed(2, Z("shrt desc\0garbage")))));
    }

    [CompilerFact]
    public void KeyctlPkeyParamsAndDhParamsFromRealStructs()
    {
        var pkey = CStruct.Bytes("#include <linux/keyctl.h>", "struct keyctl_pkey_params",
            "s.key_id = -559038242; s.in_len = 10; s.out_len = 10; s.__spare[1] = 0xfacefeed;");
        Assert.Equal("keyctl(KEYCTL_PKEY_ENCRYPT, {key_id=-559038242, in_len=10, out_len=10, __spare=[0, 0xfacefeed, 0, 0, 0, 0, 0]}, \"\", \"AbCdEfGhIj\", 0x7ffff7d70ff8)",
            Line(Ev("keyctl", [25, P, P + 0x100, P + 0x200, 0x7ffff7d70ff8], -22, false,
                Fixed(1, pkey), Fixed(2, Z("")), Fixed(3, Encoding.ASCII.GetBytes("AbCdEfGhIjKLMN")))));
        var verify = CStruct.Bytes("#include <linux/keyctl.h>", "struct keyctl_pkey_params",
            "s.key_id = KEY_SPEC_PROCESS_KEYRING; s.in_len = 0; s.in2_len = 0;");
        Assert.Equal("keyctl(KEYCTL_PKEY_VERIFY, {key_id=KEY_SPEC_PROCESS_KEYRING, in_len=0, in2_len=0}, \"\", \"\", \"\")",
            Line(Ev("keyctl", [28, P, P + 0x100, P + 0x200, P + 0x300], -126, false,
                Fixed(1, verify), Fixed(2, Z("")), Fixed(3, Z("")), Fixed(4, Z("")))));
        var dh = CStruct.Bytes("#include <linux/keyctl.h>", "struct keyctl_dh_params",
            "s.priv = KEY_SPEC_GROUP_KEYRING; s.prime = 1234567890; s.base = -1153374643;");
        Assert.Equal("keyctl(KEYCTL_DH_COMPUTE, {private=KEY_SPEC_GROUP_KEYRING, prime=1234567890, base=-1153374643}, 0x7ffff7d88ff7, 9, NULL)",
            Line(Ev("keyctl", [23, P, 0x7ffff7d88ff7, 9, 0], -95, false, Fixed(1, dh))));
    }

    [Fact]
    public void IoctlRequestsFromTheMoreTablesAndEvdevNumbers()
    {
        Assert.Equal("ioctl(-1, SIOCGSTAMP_NEW, NULL)", Line(Ev("ioctl", [0xffffffff, 0x80108906, 0], -9)));
        Assert.Equal("ioctl(-1, BLKTRACESTOP)", Line(Ev("ioctl", [0xffffffff, 0x1275, 0], -9)));
        Assert.Equal("ioctl(-1, EVIOCGBIT(EV_KEY, 8), NULL)", Line(Ev("ioctl", [0xffffffff, 0x80084521, 0], -9)));
        Assert.Equal("ioctl(-1, EVIOCGBIT(0, 0), NULL)", Line(Ev("ioctl", [0xffffffff, 0x80004520, 0], -9)));
        Assert.Equal("ioctl(-1, EVIOCGBIT(0x1f /* EV_??? */, 42), NULL)", Line(Ev("ioctl", [0xffffffff, 0x802a453f, 0], -9)));
        Assert.Equal("ioctl(-1, EVIOCGABS(ABS_X), NULL)", Line(Ev("ioctl", [0xffffffff, 0x80184540, 0], -9)));
        Assert.Equal("ioctl(-1, EVIOCSABS(0x3f /* ABS_??? */), NULL)", Line(Ev("ioctl", [0xffffffff, 0x401845ff, 0], -9)));
        Assert.Equal("ioctl(-1, EVIOCGNAME(0), NULL)", Line(Ev("ioctl", [0xffffffff, 0x80004506, 0], -9)));
        Assert.Equal("ioctl(-1, EVIOCGMTSLOTS(8), NULL)", Line(Ev("ioctl", [0xffffffff, 0x8008450a, 0], -9)));
        // an unknown request keeps the _IOC notation and a hex argument
        Assert.Equal("ioctl(-1, _IOC(_IOC_NONE, 0x5a, 0x41, 0), 0x7fffffffec68)",
            Line(Ev("ioctl", [0xffffffff, 0x5a41, 0x7fffffffec68], -9)));
    }

    [CompilerFact]
    public void IoctlArgumentsAsTheRequestReadsThem()
    {
        Assert.Equal("ioctl(-1, LOOP_SET_FD, -1159983635)", Line(Ev("ioctl", [0xffffffff, 0x4C00, 0xdeadbeefbadc0ded], -9)));
        Assert.Equal("ioctl(-1, BLKFRASET, 16045690984232390125)", Line(Ev("ioctl", [0xffffffff, 0x1264, 0xdeadbeefbadc0ded], -9)));
        Assert.Equal("ioctl(-1, PERF_EVENT_IOC_ENABLE, PERF_IOC_FLAG_GROUP|0xbadc0dec)",
            Line(Ev("ioctl", [0xffffffff, 0x2400, 0xdeadbeefbadc0ded], -9)));
        Assert.Equal("ioctl(-1, BLKROSET, [-559038737])",
            Line(Ev("ioctl", [0xffffffff, 0x125d, P], -9, false, Fixed(2, Le32(0xdeadbeef)))));
        Assert.Equal("ioctl(-1, BLKDISCARD, [16045690984232390125, 18072662651950788621])",
            Line(Ev("ioctl", [0xffffffff, 0x1277, P], -9, false,
                Fixed(2, [.. Le64(0xdeadbeefbadc0ded), .. Le64(0xfacefeedcafef00d)]))));
        Assert.Equal("ioctl(-1, TIOCMBIS, [TIOCM_LE|TIOCM_DTR|0xffff1e00])",
            Line(Ev("ioctl", [0xffffffff, 0x5416, P], -9, false, Fixed(2, Le32(0xffff1e03)))));
        // 4 bytes before an unreadable page where 8 are needed: the pointer
        Assert.Equal("ioctl(-1, BLKDISCARD, 0x7ffff7fbcffc)",
            Line(Ev("ioctl", [0xffffffff, 0x1277, 0x7ffff7fbcffc], -9, true, Fixed(2, Le32(1)))));
        Assert.Equal("ioctl(-1, SIOCBRADDBR, \"0123456789012345\"...)",
            Line(Ev("ioctl", [0xffffffff, 0x89a0, P], -9, false, Fixed(2, Encoding.ASCII.GetBytes("0123456789012345678")))));
        var ws = CStruct.Bytes("#include <asm/termios.h>", "struct winsize",
            "s.ws_row = 33152; s.ws_col = 33666; s.ws_xpixel = 34180; s.ws_ypixel = 34694;");
        Assert.Equal("ioctl(-1, TIOCSWINSZ, {ws_row=33152, ws_col=33666, ws_xpixel=34180, ws_ypixel=34694})",
            Line(Ev("ioctl", [0xffffffff, 0x5414, P], -9, false, Fixed(2, ws))));
    }
}

/// <summary>bpf commands beyond map creation and program loading, against strace 6.1's tests/bpf.c output.</summary>
public class BpfCommandDecoderTests
{
    private const string Inc = "#include <linux/bpf.h>";

    [CompilerFact]
    public void ElementIdAndLinkCommandsFromRealAttributes()
    {
        var elem = CStruct.Bytes(Inc, "union bpf_attr", "s.map_fd = -1; s.key = 0xdeadbeef; s.value = 0xbadc0ded; s.flags = BPF_F_LOCK;");
        Assert.Equal("bpf(BPF_MAP_LOOKUP_ELEM, {map_fd=-1, key=0xdeadbeef, value=0xbadc0ded, flags=BPF_F_LOCK}, 32)",
            Kit.Line(Kit.Ev("bpf", [1, 0x1000, 32], -9, false, Kit.Sized(1, elem[..32]))));
        // size 4: only map_fd was passed; key and value are zero as the kernel sees them, flags not reached
        Assert.Equal("bpf(BPF_MAP_LOOKUP_ELEM, {map_fd=-1, key=NULL, value=NULL}, 4)",
            Kit.Line(Kit.Ev("bpf", [1, 0x1000, 4], -9, false, Kit.Sized(1, elem[..4]))));
        var ids = CStruct.Bytes(Inc, "union bpf_attr", "s.start_id = 3134983661; s.next_id = 3405705229; s.open_flags = 0xffffff27;");
        Assert.Equal("bpf(BPF_PROG_GET_NEXT_ID, {start_id=3134983661, next_id=3405705229}, 8)",
            Kit.Line(Kit.Ev("bpf", [11, 0x1000, 8], -22, false, Kit.Sized(1, ids[..8]))));
        Assert.Equal("bpf(BPF_MAP_GET_FD_BY_ID, {map_id=3134983661, next_id=3405705229, open_flags=0xffffff27}, 12)",
            Kit.Line(Kit.Ev("bpf", [14, 0x1000, 12], -22, false, Kit.Sized(1, ids[..12]))));
        var link = CStruct.Bytes(Inc, "union bpf_attr",
            "s.link_create.prog_fd = -1; s.link_create.target_fd = 0xdeadbeef; s.link_create.attach_type = BPF_CGROUP_DEVICE; s.link_create.flags = 4;");
        Assert.Equal("bpf(BPF_LINK_CREATE, {link_create={prog_fd=-1, target_fd=-559038737, attach_type=BPF_CGROUP_DEVICE, flags=0x4}}, 16)",
            Kit.Line(Kit.Ev("bpf", [28, 0x1000, 16], -9, false, Kit.Sized(1, link[..16]))));
        // bytes past strace's structure (16 for this attach type): extra_data, every byte in hex
        var big = new byte[48];
        link[..16].CopyTo(big, 0);
        for (int k = 16; k < 48; k++) big[k] = (byte)('0' + (k - 16) % 10);
        var hex = string.Concat(big[16..].Select(b => $"\\x{b:x2}"));
        Assert.Equal("bpf(BPF_LINK_CREATE, {link_create={prog_fd=-1, target_fd=-559038737, attach_type=BPF_CGROUP_DEVICE, flags=0x4}, extra_data=\"" + hex + "\" /* bytes 16..47 */}, 48)",
            Kit.Line(Kit.Ev("bpf", [28, 0x1000, 48], -7, false, Kit.Sized(1, big))));
        // the size reaches an unreadable page: the readable prefix, then ???
        Assert.Equal("bpf(BPF_LINK_CREATE, {link_create={prog_fd=-1, target_fd=-559038737, attach_type=BPF_CGROUP_DEVICE, flags=0x4}, ???}, 48)",
            Kit.Line(Kit.Ev("bpf", [28, 0x1000, 48], -14, true,
                new Whyfail.Events.CapturedArg(1, Whyfail.Events.CaptureKind.Sized, 0, big[..47], 48, true))));
        var pin = CStruct.Bytes(Inc, "union bpf_attr", "s.pathname = 0x2000; s.bpf_fd = -1; s.file_flags = BPF_F_RDONLY|BPF_F_WRONLY;");
        Assert.Equal("bpf(BPF_OBJ_PIN, {pathname=\"/sys/fs/bpf/foo/bar\", bpf_fd=-1, file_flags=BPF_F_RDONLY|BPF_F_WRONLY}, 16)",
            Kit.Line(Kit.Ev("bpf", [6, 0x1000, 16], -22, false, Kit.Sized(1, pin[..16]),
                new Whyfail.Events.CapturedArg(1, Whyfail.Events.CaptureKind.Nested, 0,
                    Encoding.ASCII.GetBytes("/sys/fs/bpf/foo/bar\0xyz"), 256))));
        // an unreadable attribute stays a pointer
        Assert.Equal("bpf(BPF_MAP_FREEZE, 0x1000, 4)", Kit.Line(Kit.Ev("bpf", [22, 0x1000, 4], -9, false, Kit.Unreadable(1, Whyfail.Events.CaptureKind.Sized))));
    }
}

/// <summary>setsockopt's multicast and packet structures, against strace 6.1's ip_mreq.c, net-packet_mreq.c, net-tpacket_req.c.</summary>
public class SockoptStructDecoderTests
{
    [CompilerFact]
    public void MembershipRequestsFromRealStructs()
    {
        var mreq = CStruct.Bytes("#include <netinet/in.h>\n#include <arpa/inet.h>", "struct ip_mreq",
            "s.imr_multiaddr.s_addr = inet_addr(\"224.0.0.3\"); s.imr_interface.s_addr = inet_addr(\"127.0.0.1\");");
        Assert.Equal("setsockopt(0, SOL_IP, IP_ADD_MEMBERSHIP, {imr_multiaddr=inet_addr(\"224.0.0.3\"), imr_interface=inet_addr(\"127.0.0.1\")}, 8)",
            Kit.Line(Kit.Ev("setsockopt", [0, 0, 35, 0x1000, 8], -14, false, Kit.Sized(3, mreq))));
        // shorter than the structure: the pointer, as strace
        Assert.Equal("setsockopt(0, SOL_IP, IP_ADD_MEMBERSHIP, 0x1000, 4)",
            Kit.Line(Kit.Ev("setsockopt", [0, 0, 35, 0x1000, 4], -22, false, Kit.Sized(3, mreq[..4]))));
        var pm = CStruct.Bytes("#include <linux/if_packet.h>", "struct packet_mreq",
            "s.mr_ifindex = 0; s.mr_type = 0xffff; s.mr_alen = 8; memset(s.mr_address, 0xff, 8);");
        Assert.Equal("setsockopt(-1, SOL_PACKET, PACKET_ADD_MEMBERSHIP, {mr_ifindex=0, mr_type=0xffff /* PACKET_MR_??? */, mr_alen=8, mr_address=ff:ff:ff:ff:ff:ff:ff:ff}, 16)",
            Kit.Line(Kit.Ev("setsockopt", [0xffffffff, 263, 1, 0x1000, 16], -9, false, Kit.Sized(3, pm))));
        var tp = CStruct.Bytes("#include <linux/if_packet.h>", "struct tpacket_req",
            "s.tp_block_size = 4096; s.tp_block_nr = 1; s.tp_frame_size = 2048; s.tp_frame_nr = 2;");
        Assert.Equal("setsockopt(-1, SOL_PACKET, PACKET_RX_RING, {tp_block_size=4096, tp_block_nr=1, tp_frame_size=2048, tp_frame_nr=2}, 16)",
            Kit.Line(Kit.Ev("setsockopt", [0xffffffff, 263, 5, 0x1000, 16], -9, false, Kit.Sized(3, tp))));
    }
}

/// <summary>ioctl's struct ifreq for the requests that set an interface property (strace 6.1's ioctl_sock.c).</summary>
public class IfreqDecoderTests
{
    [CompilerFact]
    public void IfreqFromRealStructs()
    {
        const string inc = "#include <sys/socket.h>\n#include <linux/if.h>";
        var mtu = CStruct.Bytes(inc, "struct ifreq", "memcpy(s.ifr_name, \"0123456789012345\", 16); s.ifr_mtu = -87097646;");
        Assert.Equal("ioctl(-1, SIOCSIFMTU, {ifr_name=\"012345678901234\"..., ifr_mtu=-87097646})",
            Kit.Line(Kit.Ev("ioctl", [0xffffffff, 0x8922, 0x1000], -9, false, Kit.Fixed(2, mtu))));
        var name = CStruct.Bytes(inc, "struct ifreq", "strcpy(s.ifr_name, \"012345678901234\"); strcpy(s.ifr_newname, \"abcdefghijklmno\");");
        Assert.Equal("ioctl(-1, SIOCSIFNAME, {ifr_name=\"012345678901234\", ifr_newname=\"abcdefghijklmno\"})",
            Kit.Line(Kit.Ev("ioctl", [0xffffffff, 0x8923, 0x1000], -9, false, Kit.Fixed(2, name))));
        var flags = CStruct.Bytes(inc, "struct ifreq", "strcpy(s.ifr_name, \"lo\"); s.ifr_flags = IFF_UP|IFF_LOOPBACK;");
        Assert.Equal("ioctl(-1, SIOCSIFFLAGS, {ifr_name=\"lo\", ifr_flags=IFF_UP|IFF_LOOPBACK})",
            Kit.Line(Kit.Ev("ioctl", [0xffffffff, 0x8914, 0x1000], -9, false, Kit.Fixed(2, flags))));
        var idx = CStruct.Bytes(inc, "struct ifreq", "s.ifr_ifindex = 1;");
        Assert.Equal("ioctl(-1, SIOCGIFNAME, {ifr_ifindex=1})",
            Kit.Line(Kit.Ev("ioctl", [0xffffffff, 0x8910, 0x1000], -9, false, Kit.Fixed(2, idx))));
    }
}

/// <summary>ptrace requests with a structure or sigset argument (strace 6.1's ptrace.c test).</summary>
public class PtraceArgDecoderTests
{
    [CompilerFact]
    public void PeeksiginfoSigmaskAndListen()
    {
        var args = CStruct.Bytes("#include <linux/ptrace.h>", "struct ptrace_peeksiginfo_args",
            "s.off = 16045690985305276141ULL; s.flags = PTRACE_PEEKSIGINFO_SHARED; s.nr = 42;");
        Assert.Equal("ptrace(PTRACE_PEEKSIGINFO, 4805, {off=16045690985305276141, flags=PTRACE_PEEKSIGINFO_SHARED, nr=42}, 0xdeadbeeffffffeed)",
            Kit.Line(Kit.Ev("ptrace", [0x4209, 4805, 0x1000, 0xdeadbeeffffffeed], -3, false, Kit.Fixed(2, args))));
        Assert.Equal("ptrace(PTRACE_SETSIGMASK, 4805, 8, [USR1])",
            Kit.Line(Kit.Ev("ptrace", [0x420b, 4805, 8, 0x1000], -3, false, Kit.Fixed(3, Kit.Le64(1UL << 9)))));
        Assert.Equal("ptrace(PTRACE_LISTEN, 4805)", Kit.Line(Kit.Ev("ptrace", [0x4208, 4805, 0, 0], -3)));
        Assert.Equal("ptrace(PTRACE_GET_SYSCALL_INFO, 4861, 0, NULL)", Kit.Line(Kit.Ev("ptrace", [0x420e, 4861, 0, 0], -3)));
    }
}
