using System.Globalization;
using System.Net;

namespace Whyfail.Decoding;

/// <summary>Socket addresses as strace prints them, from the UAPI/glibc layouts in Data/xlat.tsv.</summary>
internal static class Sockaddr
{
    private static readonly XlatTable Families = Xlat.Table("address_families");
    private static readonly StructLayout In = Xlat.Struct("sockaddr_in");
    private static readonly StructLayout In6 = Xlat.Struct("sockaddr_in6");
    private static readonly StructLayout Un = Xlat.Struct("sockaddr_un");
    private static readonly StructLayout Nl = Xlat.Struct("sockaddr_nl");
    private static readonly StructLayout Ll = Xlat.Struct("sockaddr_ll");
    private static readonly StructLayout Ipx = Xlat.Struct("sockaddr_ipx");
    private static readonly StructLayout X25 = Xlat.Struct("sockaddr_x25");
    private static readonly StructLayout Ax25 = Xlat.Struct("sockaddr_ax25");
    private static readonly StructLayout FullAx25 = Xlat.Struct("full_sockaddr_ax25");

    public static string Family(ulong family) => Families.Value(family, "AF_???");

    /// <summary>
    /// A sockaddr argument, decoded from as many bytes as were captured (the length argument, capped).
    /// Addresses are results for accept-like calls: with <paramref name="output"/>, a failed call shows
    /// the pointer, as what the buffer holds then means nothing.
    /// </summary>
    public static string Arg(Call c, int i, bool output = false)
    {
        if (c[i] == 0) return "NULL";
        if (output && !c.Ok) return c.Ptr(i);
        var cap = c.Cap(i);
        if (cap?.Data is null || cap.Data.Length < 2) return c.Ptr(i);
        return Format(cap.Data);
    }

    /// <summary>{sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("127.0.0.1")} and the like.</summary>
    public static string Format(ReadOnlyMemory<byte> data)
    {
        var m = new Mem(data);
        ushort family = m.U16(0);
        var name = Families.Lookup(family);
        var f = new List<string> { "sa_family=" + Family(family) };
        if (data.Length <= 2) return Fmt.Struct(f);
        // A family's fields are shown when the length covers its structure (strace's minimum per family; sin6_scope_id
        // is optional), the bytes after the family otherwise.
        int min = name switch
        {
            "AF_UNIX" => 3, "AF_INET" => In.Size, "AF_INET6" => In6.Off("sin6_scope_id"), "AF_NETLINK" => Nl.Size,
            "AF_PACKET" => Ll.Size, "AF_IPX" => Ipx.Size, "AF_X25" => X25.Size, "AF_AX25" => Ax25.Size, _ => int.MaxValue,
        };
        if (data.Length < min)
        {
            f.Add("sa_data=" + StringEscaper.Quote(data.Span[2..], int.MaxValue, false));
            return Fmt.Struct(f);
        }
        switch (name)
        {
            case "AF_UNIX": Unix(m, f); break;
            case "AF_INET": Inet(m, f); break;
            case "AF_INET6": Inet6(m, f); break;
            case "AF_NETLINK": Netlink(m, f); break;
            case "AF_PACKET": Packet(m, f); break;
            case "AF_IPX": IpxFields(m, f); break;
            case "AF_AX25": Ax25Fields(m, f); break;
            case "AF_X25":
                f.Add("sx25_addr={x25_addr=" + IoctlFamily.FieldString(m, X25.Off("sx25_addr"), X25.SizeOf("sx25_addr"), int.MaxValue) + "}");
                break;
        }
        return Fmt.Struct(f);
    }

    /// <summary>strace's %#0*x of a field: zero-padded to twice its size in digits, 0x included ("0xfacefeed", "00").</summary>
    private static string ZeroX(ulong v, int size)
    {
        if (v == 0) return new string('0', size * 2);
        var hex = v.ToString("x", CultureInfo.InvariantCulture);
        return "0x" + hex.PadLeft(Math.Max(size * 2 - 2, hex.Length), '0');
    }

    /// <summary>
    /// struct full_sockaddr_ax25 as strace shows it: the callsign, the digipeaters the count asks for (as many as the length
    /// holds, "..." for the rest), "..." after them when the length goes on; the plain sockaddr_ax25 when it has none.
    /// </summary>
    private static void Ax25Fields(Mem m, List<string> f)
    {
        int len = m.Length, call = Ax25.SizeOf("sax25_call");
        int ndigis = m.I32(Ax25.Off("sax25_ndigis"));
        var head = new[] { "sax25_call=" + Ax25Addr(m.Slice(Ax25.Off("sax25_call"), call)), "sax25_ndigis=" + Fmt.Dec(ndigis) };
        if (ndigis == 0 && len <= Ax25.Size)
        {
            f.AddRange(head);
            return;
        }
        f.Add("fsa_ax25=" + Fmt.Struct(head));
        int max = FullAx25.SizeOf("fsa_digipeater") / call, at = FullAx25.Off("fsa_digipeater");
        int has = Math.Min((len - Ax25.Size) / call, max), want = Math.Min(Math.Max(ndigis, 0), max);
        if (want > 0)
        {
            var digis = Enumerable.Range(0, Math.Min(has, want)).Select(k => Ax25Addr(m.Slice(at + k * call, call))).ToList();
            if (want > has) digis.Add("...");
            f.Add("fsa_digipeater=" + Fmt.Array(digis));
        }
        if (len > has * call + Ax25.Size) f.Add("...");
    }

    /// <summary>
    /// An AX.25 address (6 shifted characters and the SSID byte): "VALID-13" when it reads as a callsign, its bytes with the
    /// callsign in a comment when it reads as one only loosely, its bytes alone when it holds unprintable characters.
    /// </summary>
    private static string Ax25Addr(ReadOnlySpan<byte> a)
    {
        int last = a.Length - 1;
        bool verbose = false, raw = false, space = false, chars = false;
        for (int k = 0; k < last && !raw; k++)
        {
            if ((a[k] & 1) != 0) verbose = true;
            int ch = a[k] >> 1;
            if (ch == ' ') space = true; else chars = true;
            if ((ch < '0' || ch > '9') && (ch < 'A' || ch > 'Z') && ch != ' ') verbose = true;
            if (ch != ' ' && space) verbose = true;
            if (ch < ' ' || ch > 0x7e || ch == '*' || ch == '/') raw = true;
        }
        if ((a[last] & ~0x1e) != 0 || (!chars && a[last] != 0)) verbose = true;
        string bytes = "{ax25_call=\"" + string.Concat(a.ToArray().Select(b => "\\x" + b.ToString("x2", CultureInfo.InvariantCulture))) + "\"}";
        if (raw) return bytes;
        int end = last;
        while (end > 0 && (a[end - 1] >> 1) == ' ') end--;
        var sb = new System.Text.StringBuilder();
        for (int k = 0; k < end; k++) sb.Append((char)(a[k] >> 1));
        int ssid = (a[last] >> 1) & 0xf;
        sb.Append('-').Append(ssid.ToString(CultureInfo.InvariantCulture));
        string text = sb.ToString() == "-0" ? "*" : sb.ToString();
        return verbose ? $"{bytes} /* {text} */" : text;
    }

    private static void IpxFields(Mem m, List<string> f)
    {
        f.Add($"sipx_port=htons({m.U16BE(Ipx.Off("sipx_port"))})");
        f.Add($"sipx_network=htonl({Fmt.Hex(m.U32BE(Ipx.Off("sipx_network")))})");
        f.Add("sipx_node=" + Fmt.Array(m.Slice(Ipx.Off("sipx_node"), Ipx.SizeOf("sipx_node")).ToArray().Select(b => ZeroX(b, 1))));
        f.Add("sipx_type=" + ZeroX(m.U8(Ipx.Off("sipx_type")), 1));
        byte zero = m.U8(Ipx.Off("sipx_zero"));
        if (zero != 0) f.Add("sipx_zero=" + Fmt.Hex(zero));
    }

    private static void Unix(Mem m, List<string> f)
    {
        int off = Un.Off("sun_path");
        var path = m.Slice(off, Un.SizeOf("sun_path"));
        if (path.Length == 0) return;
        if (path[0] == 0)
        {
            // Abstract socket: the name is every byte after the NUL, up to the address length.
            f.Add("sun_path=@" + StringEscaper.Quote(path[1..], int.MaxValue, false));
            return;
        }
        f.Add("sun_path=" + StringEscaper.Quote(m.CString(off, Un.SizeOf("sun_path")), int.MaxValue, false));
    }

    private static void Inet(Mem m, List<string> f)
    {
        if (m.Has(In.Off("sin_port"), 2)) f.Add($"sin_port=htons({m.U16BE(In.Off("sin_port"))})");
        int a = In.Off("sin_addr");
        if (m.Has(a, 4))
            f.Add("sin_addr=" + InetAddr(m, a));
    }

    /// <summary>An IPv4 address (network order) at byte <paramref name="a"/>: inet_addr("127.0.0.1").</summary>
    public static string InetAddr(Mem m, int a) => $"inet_addr(\"{m.U8(a)}.{m.U8(a + 1)}.{m.U8(a + 2)}.{m.U8(a + 3)}\")";

    private static void Inet6(Mem m, List<string> f)
    {
        if (m.Has(In6.Off("sin6_port"), 2)) f.Add($"sin6_port=htons({m.U16BE(In6.Off("sin6_port"))})");
        if (m.Has(In6.Off("sin6_flowinfo"), 4)) f.Add($"sin6_flowinfo=htonl({m.U32BE(In6.Off("sin6_flowinfo"))})");
        int a = In6.Off("sin6_addr");
        if (m.Has(a, 16))
            f.Add($"inet_pton(AF_INET6, \"{new IPAddress(m.Slice(a, 16))}\", &sin6_addr)");
        if (m.Has(In6.Off("sin6_scope_id"), 4))
        {
            // an interface index for link-local unicast and multicast addresses, a number otherwise
            var addr = m.Slice(a, 16);
            bool linkLocal = (addr[0] == 0xfe && (addr[1] & 0xc0) == 0x80) || (addr[0] == 0xff && (addr[1] & 0xf) == 0x2);
            uint scope = m.U32(In6.Off("sin6_scope_id"));
            f.Add("sin6_scope_id=" + (linkLocal ? Cmsg.IfIndex(scope) : Fmt.UInt(scope)));
        }
    }

    private static void Netlink(Mem m, List<string> f)
    {
        ushort pad = m.U16(Nl.Off("nl_pad"));
        if (pad != 0) f.Add("nl_pad=" + Fmt.Hex(pad));
        if (m.Has(Nl.Off("nl_pid"), 4)) f.Add("nl_pid=" + Fmt.UInt(m.U32(Nl.Off("nl_pid"))));
        if (m.Has(Nl.Off("nl_groups"), 4)) f.Add("nl_groups=" + ZeroX(m.U32(Nl.Off("nl_groups")), 4));
    }

    private static void Packet(Mem m, List<string> f)
    {
        if (m.Has(Ll.Off("sll_protocol"), 2)) f.Add("sll_protocol=" + Htons(m.U16BE(Ll.Off("sll_protocol"))));
        if (m.Has(Ll.Off("sll_ifindex"), 4)) f.Add("sll_ifindex=" + Cmsg.IfIndex(m.U32(Ll.Off("sll_ifindex"))));
        if (m.Has(Ll.Off("sll_hatype"), 2)) f.Add("sll_hatype=" + Xlat.Table("arphrd_types").Value(m.U16(Ll.Off("sll_hatype")), "ARPHRD_???"));
        if (m.Has(Ll.Off("sll_pkttype"), 1)) f.Add("sll_pkttype=" + Xlat.Table("packet_types").Value(m.U8(Ll.Off("sll_pkttype")), "PACKET_???"));
        if (m.Has(Ll.Off("sll_halen"), 1))
        {
            int halen = m.U8(Ll.Off("sll_halen"));
            f.Add("sll_halen=" + halen.ToString(CultureInfo.InvariantCulture));
            if (halen == 0) return;
            // halen bytes from sll_addr on, as far as the address length goes ("..." past it)
            int inside = Math.Max(0, m.Length - Ll.Off("sll_addr"));
            var bytes = new List<string>();
            for (int k = 0; k < halen; k++)
            {
                if (k >= inside) { bytes.Add("..."); break; }
                bytes.Add(ZeroX(m.U8(Ll.Off("sll_addr") + k), 1));
            }
            f.Add("sll_addr=" + Fmt.Array(bytes));
        }
    }

    /// <summary>An Ethernet protocol in network byte order: htons(ETH_P_ALL).</summary>
    public static string Htons(ushort hostValue) =>
        "htons(" + Xlat.Table("ethernet_protocols").Value(hostValue, "ETH_P_???") + ")";
}
