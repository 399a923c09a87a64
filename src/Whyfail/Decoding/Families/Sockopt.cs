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
              s => s.Sized(3, 4, CaptureSpec.BufferSize));
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
        if (d.Length == 4) return "[" + Fmt.Dec(m.I32(0)) + "]";
        return c.Buf(3);
    }
}
