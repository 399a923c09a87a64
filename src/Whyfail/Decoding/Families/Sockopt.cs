namespace Whyfail.Decoding;

/// <summary>setsockopt, getsockopt: the level, the option in that level's table, and the value.</summary>
internal static class SockoptFamily
{
    private static readonly XlatTable Levels = Xlat.Table("socket_levels");
    private static readonly StructLayout Linger = Xlat.Struct("linger");
    /// <summary>Options whose value is a string (an interface or algorithm name).</summary>
    private static readonly HashSet<string> StringOptions = ["SO_BINDTODEVICE", "TCP_CONGESTION", "TCP_ULP"];

    public static void Register(Registry r)
    {
        r.Add("setsockopt", c => [c.Fd(0), Level(c.UInt(1)), Option(c.UInt(1), c.UInt(2)), Value(c), c.Dec(4)],
              s => s.Sized(3, 4, CaptureSpec.BufferSize)
                    // SO_ATTACH_FILTER's sock_fprog: its instructions through the filter pointer (Core/Cbpf.cs)
                    .Nested(0, 3, Cbpf.FilterOffset, Cbpf.LenOffset, sizeof(uint), Cbpf.InsnSize, Cbpf.Copied * Cbpf.InsnSize));
        // The value's first 4 bytes are kept: an int option's value, the pending error of SO_ERROR (an error delivered as data).
        r.Add("getsockopt", c => [c.Fd(0), Level(c.UInt(1)), Option(c.UInt(1), c.UInt(2)), GotValue(c), c.IntPtr(4)],
              s => s.Fixed(3, 4).Fixed(4, 4));
    }

    /// <summary>What getsockopt stored, read when the call succeeded: [ECONNREFUSED] for a pending error, [1] for an int.</summary>
    private static string GotValue(Call c)
    {
        if (!c.Ev.ErrorAsData && !c.Ok) return c.Ptr(3);
        if (c.Ev.ErrorAsData) return "[" + (Errno.Name(c.Ev.Errno) ?? c.Ev.Errno.ToString(System.Globalization.CultureInfo.InvariantCulture)) + "]";
        return c.IntPtr(3);
    }

    public static string Level(uint level) => Levels.Value32(level, "SOL_??");

    private static XlatTable? OptionTable(uint level) => Levels.Lookup(level) switch
    {
        "SOL_SOCKET" => Xlat.Table("so_options"),
        "SOL_IP" => Xlat.Table("ip_options"),
        "SOL_IPV6" => Xlat.Table("ipv6_options"),
        "SOL_TCP" => Xlat.Table("tcp_options"),
        "SOL_UDP" => Xlat.Table("udp_options"),
        "SOL_NETLINK" => Xlat.Table("netlink_options"),
        "SOL_PACKET" => Xlat.Table("packet_options"),
        "SOL_RAW" => Xlat.Table("raw_options"),
        _ => null,
    };

    public static string Option(uint level, uint name)
    {
        var table = OptionTable(level);
        if (table is null) return Fmt.Int(name);
        var prefix = Levels.Lookup(level) switch
        {
            "SOL_SOCKET" => "SO", "SOL_IP" => "IP", "SOL_IPV6" => "IPV6", "SOL_TCP" => "TCP", "SOL_NETLINK" => "NETLINK",
            "SOL_PACKET" => "PACKET", "SOL_RAW" => "ICMP", _ => "UDP",
        };
        return table.Value32(name, prefix + "_???");
    }

    /// <summary>[1] for an int, {l_onoff=1, l_linger=0} for SO_LINGER, a string for names, else the bytes.</summary>
    private static string Value(Call c)
    {
        if (c[3] == 0) return "NULL";
        var d = c.Data(3);
        if (d is null) return c.Ptr(3);
        var opt = OptionTable(c.UInt(1))?.Lookup(c.UInt(2));
        var m = new Mem(d);
        if (Structured(c, opt, d) is { } s) return s;
        // A classic BPF program, when the length is exactly a sock_fprog's (strace's rule; else the bytes).
        if (opt is "SO_ATTACH_FILTER" or "SO_ATTACH_REUSEPORT_CBPF" && c.Int(4) == Cbpf.FprogSize)
            return Cbpf.Fprog(c, 3, 0, Cbpf.SocketK);
        if (opt == "SO_LINGER" && d.Length >= Linger.Size)
            return Fmt.Struct([
                "l_onoff=" + Fmt.Dec(m.I32(Linger.Off("l_onoff"))),
                "l_linger=" + Fmt.Dec(m.I32(Linger.Off("l_linger"))),
            ]);
        if (opt is not null && StringOptions.Contains(opt))
        {
            var cap = c.Cap(3)!;
            var text = m.CString(0, d.Length);
            return StringEscaper.Quote(text, c.Limit, text.Length == d.Length && c.Truncated(3, cap));
        }
        if (opt == "ICMP_FILTER" && c.Int(4) > 0) return IcmpFilter(d, c.Int(4));
        if (d.Length == 4) return "[" + Fmt.Dec(m.I32(0)) + "]";
        return c.Buf(3);
    }

    /// <summary>
    /// struct icmp_filter (the ICMP types a raw socket drops) as strace shows it: the set of types, or ~ and the types
    /// not in it when more than half of the 32 bits are set. The bytes past the length keep the kernel's all-ones start.
    /// </summary>
    private static string IcmpFilter(byte[] d, int len)
    {
        var bytes = new byte[] { 0xff, 0xff, 0xff, 0xff };
        Array.Copy(d, bytes, Math.Min(Math.Min(len, 4), d.Length));
        uint data = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(bytes);
        string prefix = "";
        if (System.Numerics.BitOperations.PopCount(data) > 16)
        {
            data = ~data;
            prefix = "~";
        }
        var types = Xlat.Table("icmp_types");
        var names = Enumerable.Range(0, 32).Where(b => (data & (1u << b)) != 0)
            .Select(b => types.Value((ulong)b, "ICMP_???"));
        return prefix + "[" + string.Join(" ", names) + "]";
    }

    /// <summary>
    /// The multicast and packet-socket requests strace 6.1 decodes as structures (ip_mreq, ipv6_mreq, group_req,
    /// packet_mreq, tpacket_req), with its length rules: the pointer when the length is short (or, for the packet
    /// structures, not exactly theirs) or the bytes could not be read; null for any other option.
    /// </summary>
    private static string? Structured(Call c, string? opt, byte[] d)
    {
        int len = c.Int(4);
        var m = new Mem(d);
        StructLayout? l = opt switch
        {
            "IP_ADD_MEMBERSHIP" or "IP_DROP_MEMBERSHIP" => Xlat.Struct("ip_mreq"),
            "IPV6_ADD_MEMBERSHIP" or "IPV6_DROP_MEMBERSHIP" or "IPV6_JOIN_ANYCAST" or "IPV6_LEAVE_ANYCAST" => Xlat.Struct("ipv6_mreq"),
            "MCAST_JOIN_GROUP" or "MCAST_LEAVE_GROUP" => Xlat.Struct("group_req"),
            "PACKET_ADD_MEMBERSHIP" or "PACKET_DROP_MEMBERSHIP" => Xlat.Struct("packet_mreq"),
            "PACKET_RX_RING" or "PACKET_TX_RING" => Xlat.Struct("tpacket_req"),
            _ => null,
        };
        if (l is null) return null;
        bool exact = opt!.StartsWith("PACKET_", StringComparison.Ordinal);
        if ((exact ? len != l.Size : len < l.Size) || d.Length < l.Size) return c.Ptr(3);
        uint U(string f) => m.U32(l.Off(f));
        string V6(string f) => new System.Net.IPAddress(m.Slice(l.Off(f), 16)).ToString();
        return opt switch
        {
            "IP_ADD_MEMBERSHIP" or "IP_DROP_MEMBERSHIP" => Fmt.Struct([
                "imr_multiaddr=" + Sockaddr.InetAddr(m, l.Off("imr_multiaddr")),
                "imr_interface=" + Sockaddr.InetAddr(m, l.Off("imr_interface"))]),
            "MCAST_JOIN_GROUP" or "MCAST_LEAVE_GROUP" => Fmt.Struct([
                "gr_interface=" + Cmsg.IfIndex(U("gr_interface")),
                "gr_group=" + Sockaddr.Format(d.AsMemory(l.Off("gr_group"), l.SizeOf("gr_group")))]),
            "PACKET_ADD_MEMBERSHIP" or "PACKET_DROP_MEMBERSHIP" => PacketMreq(m, l),
            "PACKET_RX_RING" or "PACKET_TX_RING" => Fmt.Struct(
                new[] { "tp_block_size", "tp_block_nr", "tp_frame_size", "tp_frame_nr" }.Select(f => f + "=" + Fmt.UInt(U(f)))),
            _ => Fmt.Struct([
                $"inet_pton(AF_INET6, \"{V6("ipv6mr_multiaddr")}\", &ipv6mr_multiaddr)",
                "ipv6mr_interface=" + Cmsg.IfIndex(U("ipv6mr_interface"))]),
        };
    }

    /// <summary>struct packet_mreq: the interface, the type, and mr_alen bytes of the address (at most its 8).</summary>
    private static string PacketMreq(Mem m, StructLayout l)
    {
        int alen = m.U16(l.Off("mr_alen"));
        var addr = m.Slice(l.Off("mr_address"), Math.Min(alen, l.SizeOf("mr_address"))).ToArray();
        return Fmt.Struct([
            "mr_ifindex=" + Cmsg.IfIndex(m.U32(l.Off("mr_ifindex"))),
            "mr_type=" + Xlat.Table("packet_mreq_types").Value(m.U16(l.Off("mr_type")), "PACKET_MR_???"),
            "mr_alen=" + Fmt.UInt((uint)alen),
            "mr_address=" + string.Join(":", addr.Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture))),
        ]);
    }
}
