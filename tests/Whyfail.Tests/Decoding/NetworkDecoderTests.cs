using Whyfail.Decoding;
using Xunit;
using static Whyfail.Tests.Decoding.Kit;

namespace Whyfail.Tests.Decoding;

public class SocketDecoderTests
{
    [Fact]
    public void Socket()
    {
        Assert.Equal("socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_TCP)", Line(Ev("socket", [2, 0x80001, 6], -97)));
        Assert.Equal("socket(AF_INET6, SOCK_DGRAM|SOCK_NONBLOCK, IPPROTO_IP)", Line(Ev("socket", [10, 0x802, 0], -97)));
        Assert.Equal("socket(AF_UNIX, SOCK_SEQPACKET, 0)", Line(Ev("socket", [1, 5, 0], -24)));
        Assert.Equal("socket(AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, NETLINK_AUDIT)", Line(Ev("socket", [16, 0x80003, 9], -93)));
        Assert.Equal("socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL))", Line(Ev("socket", [17, 3, 0x0300], -1)));
        Assert.Equal("socket(99 /* AF_??? */, 0xf /* SOCK_??? */, 0)", Line(Ev("socket", [99, 15, 0], -97)));
        Assert.Equal("socketpair(AF_UNIX, SOCK_STREAM, 0, 0x7ffd0000)", Line(Ev("socketpair", [1, 1, 0, 0x7ffd0000], -24)));
    }

    private static byte[] In4(ushort port, byte a, byte b, byte c, byte d) =>
        new StructBytes(16).U16(0, 2).U16BE(2, port).U8(4, a).U8(5, b).U8(6, c).U8(7, d).Bytes;

    [Fact]
    public void ConnectInet() =>
        Assert.Equal("connect(3, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr(\"127.0.0.1\")}, 16)",
            Line(Ev("connect", [3, 0x1000, 16], -111, false, Sized(1, In4(80, 127, 0, 0, 1)))));

    [Fact]
    public void ConnectInet6()
    {
        var sa = new StructBytes(28).U16(0, 10).U16BE(2, 443).U32BE(4, 0).U8(8 + 15, 1).U32(24, 0).Bytes;
        Assert.Equal("connect(3, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), "
                     + "inet_pton(AF_INET6, \"::1\", &sin6_addr), sin6_scope_id=0}, 28)",
            Line(Ev("connect", [3, 0x1000, 28], -111, false, Sized(1, sa))));
        var mapped = new StructBytes(28).U16(0, 10).U16BE(2, 53).U8(18, 0xff).U8(19, 0xff).U8(20, 10).U8(23, 1).U32(24, 2).Bytes;
        Assert.Contains("inet_pton(AF_INET6, \"::ffff:10.0.0.1\", &sin6_addr), sin6_scope_id=2}",
            Line(Ev("connect", [3, 0x1000, 28], -101, false, Sized(1, mapped))));
    }

    [CompilerFact]
    public void SockaddrIn6MatchesTheCompilersLayout()
    {
        var bytes = CStruct.Bytes("#include <netinet/in.h>\n#include <arpa/inet.h>", "struct sockaddr_in6",
            "s.sin6_family = AF_INET6; s.sin6_port = htons(8080); s.sin6_flowinfo = htonl(7); inet_pton(AF_INET6, \"2001:db8::1\", &s.sin6_addr); s.sin6_scope_id = 3;");
        // a global address: the scope as a number (link-local addresses name the interface when this host has it)
        Assert.Equal("{sa_family=AF_INET6, sin6_port=htons(8080), sin6_flowinfo=htonl(7), inet_pton(AF_INET6, \"2001:db8::1\", &sin6_addr), sin6_scope_id=3}",
            Raw(Ev("bind", [3, 0x1000, 28], -99, false, Sized(1, bytes)))[1]);
    }

    private static byte[] Unix(string path, bool abstractName = false)
    {
        var p = System.Text.Encoding.UTF8.GetBytes(path);
        var b = new byte[2 + (abstractName ? 1 + p.Length : p.Length + 1)];
        b[0] = 1;
        p.CopyTo(b.AsSpan(abstractName ? 3 : 2));
        return b;
    }

    [Fact]
    public void ConnectUnix()
    {
        Assert.Equal("connect(3, {sa_family=AF_UNIX, sun_path=\"/run/x.sock\"}, 14)",
            Line(Ev("connect", [3, 0x1000, 14], -2, false, Sized(1, Unix("/run/x.sock")))));
        Assert.Equal("connect(3, {sa_family=AF_UNIX, sun_path=@\"abs\\0x\"}, 8)",
            Line(Ev("connect", [3, 0x1000, 8], -111, false, Sized(1, Unix("abs\0x", abstractName: true)))));
        Assert.Equal("bind(3, {sa_family=AF_UNIX}, 2)", Line(Ev("bind", [3, 0x1000, 2], -22, false, Sized(1, [1, 0]))));
        // a path with a terminal escape sequence in it
        Assert.Equal("connect(3, {sa_family=AF_UNIX, sun_path=\"/tmp/\\33[8m\"}, 12)",
            Line(Ev("connect", [3, 0x1000, 12], -2, false, Sized(1, Unix("/tmp/\u001b[8m")))));
    }

    [Fact]
    public void OtherFamilies()
    {
        var nl = new StructBytes(12).U16(0, 16).U32(4, 0).U32(8, 1).Bytes;
        Assert.Equal("bind(3, {sa_family=AF_NETLINK, nl_pid=0, nl_groups=0x000001}, 12)",
            Line(Ev("bind", [3, 0x1000, 12], -98, false, Sized(1, nl))));
        // an interface index no host has (one this host has shows as if_nametoindex("lo")); zero bytes as strace's %#04x: 00
        var ll = new StructBytes(20).U16(0, 17).U16BE(2, 0x0800).I32(4, 0x7ffffff0).U16(8, 1).U8(10, 0).U8(11, 6)
            .Raw(12, [0x00, 0x11, 0x22, 0x33, 0x44, 0x55]).Bytes;
        Assert.Equal("bind(3, {sa_family=AF_PACKET, sll_protocol=htons(ETH_P_IP), sll_ifindex=2147483632, sll_hatype=ARPHRD_ETHER, "
                     + "sll_pkttype=PACKET_HOST, sll_halen=6, sll_addr=[00, 0x11, 0x22, 0x33, 0x44, 0x55]}, 20)",
            Line(Ev("bind", [3, 0x1000, 20], -19, false, Sized(1, ll))));
        Assert.Equal("bind(3, {sa_family=AF_BLUETOOTH, sa_data=\"\\1\\2\"}, 4)",
            Line(Ev("bind", [3, 0x1000, 4], -22, false, Sized(1, [31, 0, 1, 2]))));
        Assert.Equal("bind(3, {sa_family=0xfff /* AF_??? */}, 2)",
            Line(Ev("bind", [3, 0x1000, 2], -97, false, Sized(1, [0xff, 0x0f]))));
    }

    [Fact]
    public void ShortOrMissingAddresses()
    {
        Assert.Equal("connect(3, 0x1000, 1)", Line(Ev("connect", [3, 0x1000, 1], -22, false, Sized(1, [2]))));
        Assert.Equal("connect(3, NULL, 0)", Line(Ev("connect", [3, 0, 0], -22)));
        Assert.Equal("connect(3, 0x1000, 16)", Line(Ev("connect", [3, 0x1000, 16], -14, false, Unreadable(1, Whyfail.Events.CaptureKind.Sized))));
        // shorter than struct sockaddr_in: the bytes after the family, as strace shows them
        Assert.Equal("connect(3, {sa_family=AF_INET, sa_data=\"\\0\\26\"}, 4)",
            Line(Ev("connect", [3, 0x1000, 4], -22, false, Sized(1, In4(22, 1, 2, 3, 4).AsSpan(0, 4).ToArray()))));
    }

    [Fact]
    public void AcceptShowsTheAddressOnlyWhenItIsAResult()
    {
        Assert.Equal("accept(3, 0x7ffd0000, [16])",
            Line(Ev("accept", [3, 0x7ffd0000, 0x7ffd1000], -11, false, ByPtr(1, In4(1, 2, 3, 4, 5)), Fixed(2, Le32(16)))));
        Assert.Equal("accept4(3, {sa_family=AF_INET, sin_port=htons(5555), sin_addr=inet_addr(\"10.1.2.3\")}, [16], SOCK_NONBLOCK|SOCK_CLOEXEC)",
            Line(Ev("accept4", [3, 0x7ffd0000, 0x7ffd1000, 0x80800], 5, false, ByPtr(1, In4(5555, 10, 1, 2, 3)), Fixed(2, Le32(16)))));
        Assert.Equal("accept(3, NULL, NULL)", Line(Ev("accept", [3, 0, 0], -22)));
        Assert.Equal("getsockname(3, 0x7ffd0000, 0x7ffd1000)",
            Line(Ev("getsockname", [3, 0x7ffd0000, 0x7ffd1000], -14, false, Unreadable(2))));
    }

    [Fact]
    public void SendAndReceive()
    {
        Assert.Equal("sendto(3, \"ping\", 4, MSG_DONTWAIT|MSG_NOSIGNAL, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr(\"8.8.8.8\")}, 16)",
            Line(Ev("sendto", [3, 0x1000, 4, 0x4040, 0x2000, 16], -101, false, Sized(1, "ping"u8.ToArray()), Sized(4, In4(53, 8, 8, 8, 8)))));
        Assert.Equal("sendto(3, \"x\", 1, 0, NULL, 0)", Line(Ev("sendto", [3, 0x1000, 1, 0, 0, 0], -32, false, Sized(1, "x"u8.ToArray()))));
        Assert.Equal("recvfrom(3, 0x7ffd0000, 1500, MSG_PEEK, 0x7ffd2000, [16])",
            Line(Ev("recvfrom", [3, 0x7ffd0000, 1500, 2, 0x7ffd2000, 0x7ffd3000], -11, false, Fixed(5, Le32(16)))));
        Assert.Equal("sendmsg(3, 0x7ffd0000, MSG_NOSIGNAL)", Line(Ev("sendmsg", [3, 0x7ffd0000, 0x4000], -32)));
        Assert.Equal("recvmmsg(3, 0x7ffd0000, 8, MSG_WAITFORONE, NULL)", Line(Ev("recvmmsg", [3, 0x7ffd0000, 8, 0x10000, 0], -11)));
        Assert.Equal("listen(3, 128)", Line(Ev("listen", [3, 128], -95)));
        Assert.Equal("shutdown(3, SHUT_WR)", Line(Ev("shutdown", [3, 1], -107)));
    }

    [Fact]
    public void SocketOptions()
    {
        Assert.Equal("setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4)",
            Line(Ev("setsockopt", [3, 1, 2, 0x1000, 4], -9, false, Sized(3, Le32(1)))));
        Assert.Equal("setsockopt(3, SOL_TCP, TCP_NODELAY, [1], 4)",
            Line(Ev("setsockopt", [3, 6, 1, 0x1000, 4], -92, false, Sized(3, Le32(1)))));
        Assert.Equal("setsockopt(3, SOL_IPV6, IPV6_V6ONLY, [0], 4)",
            Line(Ev("setsockopt", [3, 41, 26, 0x1000, 4], -22, false, Sized(3, Le32(0)))));
        Assert.Equal("setsockopt(3, SOL_IP, IP_TTL, [64], 4)",
            Line(Ev("setsockopt", [3, 0, 2, 0x1000, 4], -22, false, Sized(3, Le32(64)))));
        Assert.Equal("setsockopt(3, SOL_SOCKET, SO_BINDTODEVICE, \"eth0\", 5)",
            Line(Ev("setsockopt", [3, 1, 25, 0x1000, 5], -1, false, Sized(3, "eth0\0"u8.ToArray()))));
        Assert.Equal("setsockopt(3, SOL_SOCKET, SO_LINGER, {l_onoff=1, l_linger=0}, 8)",
            Line(Ev("setsockopt", [3, 1, 13, 0x1000, 8], -22, false, Sized(3, new StructBytes(8).I32(0, 1).Bytes))));
        Assert.Equal("setsockopt(3, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, [1], 4)",
            Line(Ev("setsockopt", [3, 270, 1, 0x1000, 4], -92, false, Sized(3, Le32(1)))));
        Assert.Equal("setsockopt(3, 0x270f /* SOL_?? */, 5, NULL, 0)", Line(Ev("setsockopt", [3, 9999, 5, 0, 0], -92)));
        Assert.Equal("setsockopt(3, SOL_SOCKET, 0x309 /* SO_??? */, \"\\1\\2\\3\", 3)",
            Line(Ev("setsockopt", [3, 1, 777, 0x1000, 3], -92, false, Sized(3, [1, 2, 3]))));
        Assert.Equal("getsockopt(3, SOL_SOCKET, SO_ERROR, 0x7ffd0000, [4])",
            Line(Ev("getsockopt", [3, 1, 4, 0x7ffd0000, 0x7ffd1000], -88, false, Fixed(4, Le32(4)))));
    }
}
