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
        switch (name)
        {
            case "AF_UNIX": Unix(m, f); break;
            case "AF_INET": Inet(m, f); break;
            case "AF_INET6": Inet6(m, f); break;
            case "AF_NETLINK": Netlink(m, f); break;
            case "AF_PACKET": Packet(m, f); break;
            default:
                if (data.Length > 2) f.Add("sa_data=" + StringEscaper.Quote(data.Span[2..], int.MaxValue, false));
                break;
        }
        return Fmt.Struct(f);
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
        if (m.Has(In6.Off("sin6_scope_id"), 4)) f.Add("sin6_scope_id=" + Fmt.UInt(m.U32(In6.Off("sin6_scope_id"))));
    }

    private static void Netlink(Mem m, List<string> f)
    {
        if (m.Has(Nl.Off("nl_pid"), 4)) f.Add("nl_pid=" + Fmt.UInt(m.U32(Nl.Off("nl_pid"))));
        if (m.Has(Nl.Off("nl_groups"), 4)) f.Add("nl_groups=" + m.U32(Nl.Off("nl_groups")).ToString("x8", CultureInfo.InvariantCulture));
    }

    private static void Packet(Mem m, List<string> f)
    {
        if (m.Has(Ll.Off("sll_protocol"), 2)) f.Add("sll_protocol=" + Htons(m.U16BE(Ll.Off("sll_protocol"))));
        if (m.Has(Ll.Off("sll_ifindex"), 4)) f.Add("sll_ifindex=" + Fmt.Dec(m.I32(Ll.Off("sll_ifindex"))));
        if (m.Has(Ll.Off("sll_hatype"), 2)) f.Add("sll_hatype=" + Fmt.UDec(m.U16(Ll.Off("sll_hatype"))));
        if (m.Has(Ll.Off("sll_pkttype"), 1)) f.Add("sll_pkttype=" + Fmt.UDec(m.U8(Ll.Off("sll_pkttype"))));
        if (m.Has(Ll.Off("sll_halen"), 1))
        {
            int halen = Math.Min(m.U8(Ll.Off("sll_halen")), Ll.SizeOf("sll_addr"));
            f.Add("sll_halen=" + halen.ToString(CultureInfo.InvariantCulture));
            var addr = m.Slice(Ll.Off("sll_addr"), halen);
            var bytes = new List<string>();
            foreach (var b in addr) bytes.Add("0x" + b.ToString("x2", CultureInfo.InvariantCulture));
            f.Add("sll_addr=" + Fmt.Array(bytes));
        }
    }

    /// <summary>An Ethernet protocol in network byte order: htons(ETH_P_ALL).</summary>
    public static string Htons(ushort hostValue) =>
        "htons(" + Xlat.Table("ethernet_protocols").Value(hostValue, "ETH_P_???") + ")";
}
