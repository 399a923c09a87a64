using System.Globalization;

namespace Whyfail.Decoding;

/// <summary>
/// Control messages (msghdr's msg_control, copied as a second-level capture) in strace's notation:
/// <c>[{cmsg_len=20, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[3]}, ... /* 0x7ff… */]</c>.
/// The walk is strace's (src/msghdr.c, decode_msg_control): headers of sizeof(struct cmsghdr), each message
/// advanced by its cmsg_len aligned to 8, the bytes left over shown as <c>... /* address */</c>; a buffer
/// shorter than one header, or one that could not be read whole, is shown by its address, as strace does.
/// Arrays in the data (descriptors, IP options) are shown whole, as strace -v does (the copy is capped).
/// </summary>
internal static class Cmsg
{
    private static readonly StructLayout H = Xlat.Struct("cmsghdr");
    private static readonly StructLayout Ucred = Xlat.Struct("ucred");
    private static readonly StructLayout Pktinfo = Xlat.Struct("in_pktinfo");
    private static readonly StructLayout Ee = Xlat.Struct("sock_extended_err");
    private static readonly StructLayout OldTv = Xlat.Struct("kernel_old_timeval");
    private static readonly StructLayout SockTv = Xlat.Struct("kernel_sock_timeval");
    private static readonly StructLayout OldTs = Xlat.Struct("kernel_old_timespec");
    private static readonly StructLayout Ts = Xlat.Struct("kernel_timespec");
    private static readonly StructLayout SockaddrIn = Xlat.Struct("sockaddr_in");
    private static readonly XlatTable Levels = Xlat.Table("socket_levels");
    private static readonly XlatTable ScmTypes = Xlat.Table("scm_types");
    private static readonly XlatTable IpTypes = Xlat.Table("ip_cmsg_types");

    /// <summary>The kernel's limit on a control buffer when /proc does not say (strace's fallback: 8 * (2 * IOV_MAX + 512)).</summary>
    private const ulong OptmemFallback = 8 * (2 * 1024 + 512);

    /// <summary>
    /// msg_control as strace prints it: <paramref name="data"/> is the copy (null: not copied or unreadable),
    /// <paramref name="faulted"/> whether it ran into an unreadable page, <paramref name="inLen"/> msg_controllen.
    /// </summary>
    public static string Format(ReadOnlySpan<byte> data, bool copied, bool faulted, ulong addr, ulong inLen)
    {
        ulong controlLen = Math.Min(inLen, OptmemMax());
        int hsize = H.Size;
        if (!copied || controlLen < (ulong)hsize || faulted || (ulong)data.Length < Math.Min(controlLen, (ulong)hsize))
            return Fmt.Ptr(addr);
        var m = new Mem(data.ToArray());
        var items = new List<string>();
        ulong bufLen = controlLen;
        int at = 0;
        bool cut = false;
        while (bufLen >= (ulong)hsize)
        {
            if (!m.Has(at, hsize))
            {
                cut = true; // past what was copied (the capture's cap)
                break;
            }
            ulong cmsgLen = m.U64(at + H.Off("cmsg_len"));
            int level = m.I32(at + H.Off("cmsg_level"));
            int type = m.I32(at + H.Off("cmsg_type"));
            ulong len = Math.Min(cmsgLen, bufLen);
            int dataLen = len > (ulong)hsize ? (int)(len - (ulong)hsize) : 0;
            var payload = m.Slice(at + hsize, dataLen);
            items.Add("{cmsg_len=" + Fmt.UDec(cmsgLen) + ", cmsg_level=" + Levels.Value32((uint)level, "SOL_???")
                      + ", cmsg_type=" + TypeAndData(level, type, payload, dataLen) + "}");
            if (len < (ulong)hsize)
            {
                bufLen -= (ulong)hsize;
                break;
            }
            ulong step = (cmsgLen + 7) & ~7UL;
            if (step >= bufLen || step < cmsgLen)
            {
                bufLen = 0;
                break;
            }
            at += (int)step;
            bufLen -= step;
        }
        if (cut)
            items.Add("...");
        else if (bufLen != 0)
            items.Add("... /* " + Fmt.Ptr(addr + (controlLen - bufLen)) + " */");
        else if (controlLen < inLen)
            items.Add("...");
        return Fmt.Array(items);
    }

    private static string TypeAndData(int level, int type, ReadOnlySpan<byte> d, int dataLen)
    {
        uint t = (uint)type;
        if (level == (int)Levels.ValueOr("SOL_SOCKET", 1))
        {
            var name = ScmTypes.Value32(t, "SCM_???");
            var data = SocketData(ScmTypes.Lookup(t), d, dataLen);
            return data is null ? name : name + ", cmsg_data=" + data;
        }
        if (level == (int)Levels.ValueOr("SOL_IP", 0))
        {
            var name = IpTypes.Value32(t, "IP_???");
            var data = IpData(IpTypes.Lookup(t), d, dataLen);
            return data is null ? name : name + ", cmsg_data=" + data;
        }
        return Fmt.Hex(t);
    }

    /// <summary>SOL_SOCKET messages strace decodes, when at least their minimum length is there (else null).</summary>
    private static string? SocketData(string? type, ReadOnlySpan<byte> d, int n) => type switch
    {
        "SCM_RIGHTS" when n >= 4 => Ints(d, n / 4, signed: true),
        "SCM_CREDENTIALS" when n >= Ucred.Size => Creds(new Mem(d.ToArray())),
        "SCM_SECURITY" when n >= 1 => Security(d, n),
        "SO_TIMESTAMP_OLD" when n >= 1 => Time(d, n, OldTv, "tv_usec"),
        "SO_TIMESTAMPNS_OLD" when n >= 1 => Time(d, n, OldTs, "tv_nsec"),
        "SO_TIMESTAMPING_OLD" when n >= 1 => Times(d, n, OldTs),
        "SO_TIMESTAMP_NEW" when n >= 1 => Time(d, n, SockTv, "tv_usec"),
        "SO_TIMESTAMPNS_NEW" when n >= 1 => Time(d, n, Ts, "tv_nsec"),
        "SO_TIMESTAMPING_NEW" when n >= 1 => Times(d, n, Ts),
        _ => null,
    };

    /// <summary>SOL_IP messages strace decodes (else null).</summary>
    private static string? IpData(string? type, ReadOnlySpan<byte> d, int n) => type switch
    {
        "IP_PKTINFO" when n >= Pktinfo.Size => PktInfo(new Mem(d.ToArray())),
        "IP_TTL" or "IP_CHECKSUM" when n >= 4 => Ints(d, n / 4, signed: false),
        "IP_TOS" or "IP_RECVOPTS" or "IP_RETOPTS" when n >= 1 => Bytes(d, n),
        "IP_RECVERR" when n >= Ee.Size + SockaddrIn.Size => RecvErr(d),
        "SCM_SECURITY" when n >= 1 => Security(d, n),
        "IP_ORIGDSTADDR" when n >= SockaddrIn.Size => Sockaddr.Format(d[..Math.Min(n, CaptureSpec.SockaddrSize)].ToArray()),
        _ => null,
    };

    private static string Ints(ReadOnlySpan<byte> d, int count, bool signed)
    {
        var m = new Mem(d.ToArray());
        var items = new List<string>();
        for (int k = 0; k < count; k++)
            items.Add(signed ? Fmt.Int(m.U32(k * 4)) : Fmt.UInt(m.U32(k * 4)));
        return Fmt.Array(items);
    }

    /// <summary>SCM_SECURITY's label: every byte as a string, as strace prints it (print_quoted_string, no -s limit).</summary>
    private static string Security(ReadOnlySpan<byte> d, int n) =>
        StringEscaper.Quote(d[..Math.Min(n, d.Length)], int.MaxValue, n > d.Length);

    private static string Bytes(ReadOnlySpan<byte> d, int count)
    {
        var items = new List<string>();
        for (int k = 0; k < count && k < d.Length; k++)
            items.Add(Fmt.Hex(d[k]));
        return Fmt.Array(items);
    }

    private static string Creds(Mem m) =>
        "{pid=" + Fmt.Int(m.U32(Ucred.Off("pid"))) + ", uid=" + Fmt.Id(m.U32(Ucred.Off("uid")))
        + ", gid=" + Fmt.Id(m.U32(Ucred.Off("gid"))) + "}";

    /// <summary>One timeval or timespec: {tv_sec=…, tv_usec=…}, or ??? when the data is shorter.</summary>
    private static string Time(ReadOnlySpan<byte> d, int n, StructLayout l, string frac)
    {
        if (n < l.Size || d.Length < l.Size) return "???";
        var m = new Mem(d.ToArray());
        return "{tv_sec=" + Fmt.Dec(m.I64(l.Off("tv_sec"))) + ", " + frac + "=" + Fmt.UDec(m.U64(l.Off(frac))) + "}";
    }

    /// <summary>SO_TIMESTAMPING's three timespecs, or ??? when fewer are there.</summary>
    private static string Times(ReadOnlySpan<byte> d, int n, StructLayout l)
    {
        if (n / l.Size < 3 || d.Length < 3 * l.Size) return "???";
        var items = new List<string>();
        for (int k = 0; k < 3; k++) items.Add(Time(d[(k * l.Size)..], l.Size, l, "tv_nsec"));
        return Fmt.Array(items);
    }

    private static string PktInfo(Mem m)
    {
        int a = Pktinfo.Off("ipi_spec_dst"), b = Pktinfo.Off("ipi_addr");
        return "{ipi_ifindex=" + IfIndex(m.U32(Pktinfo.Off("ipi_ifindex")))
               + ", ipi_spec_dst=" + Sockaddr.InetAddr(m, a) + ", ipi_addr=" + Sockaddr.InetAddr(m, b) + "}";
    }

    private static string RecvErr(ReadOnlySpan<byte> d)
    {
        var m = new Mem(d.ToArray());
        string U(string f) => Fmt.UDec(m.Field(Ee.Off(f), Ee.SizeOf(f)));
        return "{ee_errno=" + U("ee_errno") + ", ee_origin=" + U("ee_origin") + ", ee_type=" + U("ee_type")
               + ", ee_code=" + U("ee_code") + ", ee_info=" + U("ee_info") + ", ee_data=" + U("ee_data")
               + ", offender=" + Sockaddr.Format(d.Slice(Ee.Size, SockaddrIn.Size).ToArray()) + "}";
    }

    /// <summary>An interface index as strace prints it: if_nametoindex("lo") when this host has it, else the number.</summary>
    internal static string IfIndex(uint index)
    {
        try
        {
            foreach (var dir in Directory.EnumerateDirectories("/sys/class/net"))
            {
                var f = Path.Combine(dir, "ifindex");
                if (File.Exists(f) && uint.TryParse(File.ReadAllText(f).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i == index)
                    return "if_nametoindex(" + StringEscaper.Quote(Path.GetFileName(dir)) + ")";
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return Fmt.UInt(index);
    }

    /// <summary>net.core.optmem_max rounded up to 8, as strace caps what it reads (its fallback when unreadable).</summary>
    private static ulong OptmemMax()
    {
        if (_optmem != 0) return _optmem;
        ulong v = OptmemFallback;
        try
        {
            if (ulong.TryParse(File.ReadAllText("/proc/sys/net/core/optmem_max").Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var o) && o > 0)
                v = (o + 7) & ~7UL;
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return _optmem = v;
    }

    private static ulong _optmem;
}
