namespace Whyfail.Decoding;

/// <summary>
/// socket, socketpair, bind, connect, listen, accept, accept4, getsockname, getpeername, sendto,
/// recvfrom, sendmsg, recvmsg, sendmmsg, recvmmsg, shutdown.
/// </summary>
internal static class SocketFamily
{
    /// <summary>SOCK_TYPE_MASK from the kernel's include/linux/net.h: the type is the low 4 bits, flags above.</summary>
    private const uint SockTypeMask = 0xf;

    public static void Register(Registry r)
    {
        r.Add("socket", c => [Domain(c, 0), Type(c.UInt(1)), Protocol(c.UInt(0), c.UInt(2))]);
        r.Add("socketpair", c => [Domain(c, 0), Type(c.UInt(1)), Protocol(c.UInt(0), c.UInt(2)), c.Ptr(3)]);
        r.Add("bind connect", c => [c.Fd(0), Sockaddr.Arg(c, 1), c.Dec(2)],
              s => s.Sized(1, 2, CaptureSpec.SockaddrSize));
        // The address is a result: meaningful only when the call succeeded (--all); the length pointer
        // holds what the caller offered.
        r.Add("accept getsockname getpeername", c => [c.Fd(0), Sockaddr.Arg(c, 1, output: true), c.IntPtr(2)],
              s => s.SizedByPointer(1, 2, CaptureSpec.SockaddrSize).Fixed(2, 4));
        r.Add("accept4", c => [c.Fd(0), Sockaddr.Arg(c, 1, output: true), c.IntPtr(2), c.Flags(3, "socket_type_flags")],
              s => s.SizedByPointer(1, 2, CaptureSpec.SockaddrSize).Fixed(2, 4));
        r.Add("sendto", c => [c.Fd(0), c.Buf(1), c.UDec(2), c.Flags(3, "msg_flags"), Sockaddr.Arg(c, 4), c.Dec(5)],
              s => s.Sized(1, 2, CaptureSpec.BufferSize).Sized(4, 5, CaptureSpec.SockaddrSize));
        r.Add("recvfrom", c => [c.Fd(0), c.Ptr(1), c.UDec(2), c.Flags(3, "msg_flags"), Sockaddr.Arg(c, 4, output: true), c.IntPtr(5)],
              s => s.SizedByPointer(4, 5, CaptureSpec.SockaddrSize).Fixed(5, 4));
        r.Add("sendmsg", c => [c.Fd(0), Msghdr.Send(c, 1), c.Flags(2, "msg_flags")], s => Msghdr.Capture(s, 1));
        r.Add("recvmsg", c => [c.Fd(0), Msghdr.Receive(c, 1), c.Flags(2, "msg_flags")], s => s.Fixed(1, Msghdr.Size));
        r.Add("sendmmsg", c => [c.Fd(0), c.Ptr(1), c.UDec(2), c.Flags(3, "msg_flags")]);
        r.Add("recvmmsg", c => [c.Fd(0), c.Ptr(1), c.UDec(2), c.Flags(3, "msg_flags"), TimeFamily.Timespec(c, 4)],
              s => s.Fixed(4, TimeFamily.TimespecSize));
        r.Add("listen", c => [c.Fd(0), c.Dec(1)]);
        r.Add("shutdown", c => [c.Fd(0), c.Enum(1, "shutdown_how", "SHUT_???")]);
    }

    private static string Domain(Call c, int i) => Xlat.Table("address_families").Value32(c.UInt(i), "AF_???", hex: false);

    /// <summary>SOCK_STREAM|SOCK_CLOEXEC</summary>
    public static string Type(uint type)
    {
        var t = Xlat.Table("socket_types").Value(type & SockTypeMask, "SOCK_???");
        uint rest = type & ~SockTypeMask;
        return rest == 0 ? t : t + "|" + Xlat.Table("socket_type_flags").Flags(rest);
    }

    /// <summary>The protocol in the domain's own terms: IPPROTO_TCP, NETLINK_ROUTE, htons(ETH_P_ALL).</summary>
    public static string Protocol(uint domain, uint protocol)
    {
        var d = Xlat.Table("address_families").Lookup(domain);
        return d switch
        {
            "AF_INET" or "AF_INET6" => Xlat.Table("ip_protocols").Value32(protocol, "IPPROTO_???", hex: false),
            "AF_NETLINK" => Xlat.Table("netlink_protocols").Value32(protocol, "NETLINK_???", hex: false),
            "AF_PACKET" => Sockaddr.Htons((ushort)(((protocol & 0xff) << 8) | ((protocol >> 8) & 0xff))),
            _ => Fmt.Int(protocol),
        };
    }
}
