namespace Whyfail.Decoding;

/// <summary>
/// ioctl: the request by name from the tables of requests (Data/xlat.tsv "ioctls", then "ioctls_more"), evdev's
/// requests that carry a length or a code in their number (EVIOCGNAME(len), EVIOCGBIT(EV_KEY, len),
/// EVIOCGABS(ABS_X)), else taken apart with the _IOC layout: _IOC(_IOC_READ, 0x54, 0x13, 0x8). The argument as
/// the request reads it where strace decodes it on failure (an int, a pointed-to int or flag set, a string, a
/// winsize), none for requests that take none, else in hex.
/// </summary>
internal static class IoctlFamily
{
    private static readonly XlatTable Requests = Xlat.Table("ioctls");
    private static readonly XlatTable More = Xlat.Table("ioctls_more");
    private static readonly XlatTable Other = Xlat.Table("ioctls_other");
    private static readonly XlatTable EvSized = Xlat.Table("ioctls_evdev_sized");
    private static readonly XlatTable Sized = Xlat.Table("ioctls_sized");
    private static readonly XlatTable Layout = Xlat.Table("ioc_layout");
    private static readonly XlatTable Dir = Xlat.Table("ioc_dir");

    /// <summary>Bytes copied of the argument: enough for the structures decoded here (struct loop_config, the largest).</summary>
    private static readonly int ArgCopy = Xlat.Struct("loop_config").Size;

    public static void Register(Registry r)
    {
        // The argument is a pointer for most requests; the copy is used only for those decoded below.
        r.Add("ioctl", Decode, s => s.Fixed(2, ArgCopy));
    }

    private static string[] Decode(Call c)
    {
        uint req = c.UInt(1);
        var name = Name(req);
        var arg = name is null ? c.Hex(2) : Arg(c, name);
        return arg is null ? [c.Fd(0), Request(req)] : [c.Fd(0), Request(req), arg];
    }

    /// <summary>Requests strace shows without an argument (the kernel ignores it).</summary>
    private static readonly HashSet<string> NoArg =
    [
        "BLKRRPART", "BLKFLSBUF", "BLKTRACESTART", "BLKTRACESTOP", "BLKTRACETEARDOWN", "LOOP_CLR_FD",
        "LOOP_SET_CAPACITY", "LOOP_CTL_GET_FREE", "RNDZAPENTCNT", "RNDCLEARPOOL", "RNDRESEEDCRNG",
    ];

    /// <summary>
    /// The argument of a named request, or null for none. Pointed-to values are read as the program passed them
    /// (these requests only read them); NULL when zero, the pointer when unreadable.
    /// </summary>
    private static string? Arg(Call c, string name)
    {
        if (NoArg.Contains(name)) return null;
        switch (name)
        {
            case "LOOP_SET_FD" or "LOOP_CHANGE_FD" or "LOOP_CTL_ADD" or "LOOP_CTL_REMOVE" or "EVIOCRMFF"
                or "PERF_EVENT_IOC_REFRESH" or "PERF_EVENT_IOC_SET_OUTPUT" or "PERF_EVENT_IOC_SET_BPF":
                return c.Dec(2);
            case "BLKFRASET" or "EVIOCGRAB" or "EVIOCREVOKE":
                return c.UDec(2);
            case "PERF_EVENT_IOC_ENABLE" or "PERF_EVENT_IOC_DISABLE" or "PERF_EVENT_IOC_RESET":
                return Xlat.Table("perf_ioc_flags").Flags(c.UInt(2));
        }
        if (c[2] == 0) return "NULL";
        var d = c.Data(2);
        var m = new Mem(d ?? []);
        string Ints(int n, int size, Func<int, string> one) =>
            d is null || d.Length < n * size ? c.Ptr(2) : Fmt.Array(Enumerable.Range(0, n).Select(k => one(k * size)));
        return name switch
        {
            "BLKROSET" or "BLKBSZSET" or "RNDADDTOENTCNT" => Ints(1, 4, o => Fmt.Int(m.U32(o))),
            "EVIOCSCLOCKID" => Ints(1, 4, o => Fmt.UInt(m.U32(o))),
            "EVIOCSREP" => Ints(2, 4, o => Fmt.UInt(m.U32(o))),
            "PERF_EVENT_IOC_PERIOD" => Ints(1, 8, o => Fmt.UDec(m.U64(o))),
            "BLKDISCARD" or "BLKSECDISCARD" or "BLKZEROOUT" => Ints(2, 8, o => Fmt.UDec(m.U64(o))),
            "TIOCMBIS" or "TIOCMBIC" or "TIOCMSET" => Ints(1, 4, o => Xlat.Table("tiocm_flags").Flags(m.U32(o))),
            "FS_IOC_SETFLAGS" or "FS_IOC32_SETFLAGS" => Ints(1, 4, o => Xlat.Table("fs_inode_flags").Flags(m.U32(o))),
            "PERF_EVENT_IOC_SET_FILTER" => KeyctlFamily.CStr(c, 2),
            // a bridge name: IFNAMSIZ bytes at most (strace shows 16 and "..." when no NUL is among them)
            "SIOCBRADDBR" or "SIOCBRDELBR" => IfName(c, 2),
            "TIOCSWINSZ" => Winsize(c),
            "OTPSELECT" => Ints(1, 4, o => Xlat.Table("mtd_otp_options").Value(m.U32(o), "MTD_OTP_???")),
            "FS_IOC_FIEMAP" => IoctlStructs.Fiemap(c),
            "LOOP_SET_STATUS" => IoctlStructs.LoopInfo(c),
            "LOOP_SET_STATUS64" => IoctlStructs.LoopInfo64(c),
            "LOOP_CONFIGURE" => IoctlStructs.LoopConfig(c),
            "RNDADDENTROPY" => IoctlStructs.RandPoolInfo(c),
            "EVIOCSKEYCODE" => Ints(2, 4, o => o == 0 ? Fmt.UInt(m.U32(o)) : Xlat.Table("key_codes").Value(m.U32(o), "KEY_???")),
            "EVIOCSKEYCODE_V2" => IoctlStructs.KeymapEntry(c),
            // the ids the kernel fills in follow on success only
            "PERF_EVENT_IOC_QUERY_BPF" => d is null || d.Length < 4 ? c.Ptr(2) : "{ids_len=" + Fmt.UInt(m.U32(0)) + ", ...}",
            "BLKTRACESETUP" => IoctlStructs.TraceSetup(c),
            "BLKPG" => IoctlStructs.Blkpg(c),
            "SIOCSIFENCAP" => Ints(1, 4, o => Fmt.Int(m.U32(o))),
            _ => Ifreq(c, name) ?? c.Hex(2),
        };
    }

    /// <summary>
    /// struct ifreq of the requests that set an interface property, as strace 6.1 shows it on entry: ifr_name, then
    /// the union member the request reads (SIOCGIFNAME, SIOCBRADDIF, SIOCBRDELIF: ifr_ifindex alone); null for
    /// other requests (their argument stays a pointer), the pointer when the structure could not be read.
    /// </summary>
    private static string? Ifreq(Call c, string name)
    {
        string? member = name switch
        {
            "SIOCSIFADDR" => "ifr_addr", "SIOCSIFDSTADDR" => "ifr_dstaddr", "SIOCSIFBRDADDR" => "ifr_broadaddr",
            "SIOCSIFNETMASK" => "ifr_netmask", "SIOCSIFFLAGS" => "ifr_flags", "SIOCSIFMETRIC" => "ifr_metric",
            "SIOCSIFMTU" => "ifr_mtu", "SIOCSIFSLAVE" => "ifr_slave", "SIOCSIFNAME" => "ifr_newname",
            "SIOCSIFTXQLEN" => "ifr_qlen", "SIOCSIFMAP" => "ifr_map",
            "SIOCGIFNAME" or "SIOCBRADDIF" or "SIOCBRDELIF" => "ifr_ifindex",
            "SIOCSIFHWADDR" or "SIOCSIFHWBROADCAST" or "SIOCADDMULTI" or "SIOCDELMULTI" => "ifr_hwaddr",
            _ => null,
        };
        if (member is null) return null;
        var l = Xlat.Struct("ifreq");
        if (!c.TryData(2, l.Size, out var d)) return c.Ptr(2);
        var m = new Mem(d);
        int at = l.Off(member);
        if (member == "ifr_ifindex")
        {
            uint index = m.U32(at);
            return Fmt.Struct(["ifr_ifindex=" + (name == "SIOCGIFNAME" ? Fmt.Int(index) : Cmsg.IfIndex(index))]);
        }
        string value = member switch
        {
            "ifr_addr" or "ifr_dstaddr" or "ifr_broadaddr" or "ifr_netmask" =>
                Sockaddr.Format(d.AsMemory(at, l.SizeOf(member))),
            "ifr_flags" => Xlat.Table("iff_flags").Flags(m.U16(at)),
            "ifr_metric" or "ifr_mtu" or "ifr_qlen" => Fmt.Int(m.U32(at)),
            "ifr_slave" or "ifr_newname" => FieldString(m, at, l.SizeOf(member), c.Limit),
            "ifr_hwaddr" => IoctlStructs.HwAddr(m, at, l.SizeOf(member)),
            _ => IfMap(m, at),
        };
        return Fmt.Struct(["ifr_name=" + FieldString(m, l.Off("ifr_name"), l.SizeOf("ifr_name"), c.Limit), member + "=" + value]);
    }

    /// <summary>A char array field as strace's print_quoted_cstring: up to its NUL, else its size - 1 bytes and "...".</summary>
    internal static string FieldString(Mem m, int at, int size, int limit)
    {
        var s = m.Slice(at, size);
        int nul = s.IndexOf((byte)0);
        return nul >= 0 ? StringEscaper.Quote(s[..nul], limit, false) : StringEscaper.Quote(s[..Math.Max(0, size - 1)], limit, true);
    }

    /// <summary>struct ifmap: every field in hex.</summary>
    private static string IfMap(Mem m, int at)
    {
        var l = Xlat.Struct("ifmap");
        return Fmt.Struct(new[] { "mem_start", "mem_end", "base_addr", "irq", "dma", "port" }
            .Select(f => f + "=" + Fmt.Hex(m.Field(at + l.Off(f), l.SizeOf(f)))));
    }

    /// <summary>struct winsize, read as the program passed it.</summary>
    private static string Winsize(Call c)
    {
        var w = Xlat.Struct("winsize");
        if (!c.TryData(2, w.Size, out var d)) return c.Ptr(2);
        var m = new Mem(d);
        return Fmt.Struct(new[] { "ws_row", "ws_col", "ws_xpixel", "ws_ypixel" }
            .Select(f => f + "=" + Fmt.UInt(m.U16(w.Off(f)))));
    }

    /// <summary>An interface name of at most IFNAMSIZ bytes (strace's printstr_ex bounded by IFNAMSIZ).</summary>
    private static string IfName(Call c, int i)
    {
        int ifnamsiz = (int)Xlat.Table("ifnamsiz")["IFNAMSIZ"];
        var d = c.Data(i);
        if (d is null) return c.Ptr(i);
        int nul = Array.IndexOf(d, (byte)0, 0, Math.Min(d.Length, ifnamsiz));
        if (nul >= 0) return StringEscaper.Quote(d.AsSpan(0, nul), c.Limit, false);
        return d.Length >= ifnamsiz ? StringEscaper.Quote(d.AsSpan(0, ifnamsiz), c.Limit, true) : c.Ptr(i);
    }

    /// <summary>The request's name (the one its argument is decoded by), or null when no table names it.</summary>
    private static string? Name(uint req) => Requests.Lookup(req) ?? More.Lookup(req) ?? Other.Lookup(req) ?? Evdev(req);

    /// <summary>Every table name of each number, in strace's order (by name); made at the first ioctl decoded, not at start-up.</summary>
    private static readonly Lazy<Dictionary<ulong, string[]>> AllNames = new(() => new[] { Requests, More, Other }
        .SelectMany(t => t.Entries).GroupBy(e => e.Value)
        .ToDictionary(g => g.Key, g => g.Select(e => e.Name).Distinct().Order(StringComparer.Ordinal).ToArray()));

    /// <summary>
    /// The request as strace names it: a number several subsystems use gets all their names ("SNDCTL_TMR_START or
    /// TCSETS"), after the name of a request carrying a length or a device in its number ("MIXER_READ(13) or OTPSELECT").
    /// </summary>
    public static string Request(uint req)
    {
        var names = new List<string>();
        if (Numbered(req) is { } n) names.Add(n);
        if (AllNames.Value.TryGetValue(req, out var table)) names.AddRange(table);
        else if (names.Count == 0 && Evdev(req) is { } ev) names.Add(ev);
        return names.Count > 0 ? string.Join(" or ", names) : Ioc(req);
    }

    /// <summary>
    /// hiddev/hidraw requests with a length in their size field (HIDIOCGPHYS(8)) and the sound mixer's requests with the
    /// device in their number (MIXER_READ(13): any read or write request of the mixer's type), as strace names them.
    /// </summary>
    private static string? Numbered(uint req)
    {
        uint size = Field(req, "_IOC_SIZESHIFT", "_IOC_SIZEBITS");
        uint sizeMask = (uint)(((1UL << (int)Layout["_IOC_SIZEBITS"]) - 1) << (int)Layout["_IOC_SIZESHIFT"]);
        uint bare = req & ~sizeMask;
        foreach (var op in (string[])["HIDIOCGRAWNAME", "HIDIOCGRAWPHYS", "HIDIOCGPHYS", "HIDIOCGFEATURE", "HIDIOCSFEATURE"])
            if (bare == ((uint)Sized[op] & ~sizeMask)) return $"{op}({Fmt.UInt(size)})";
        uint mixer = (uint)Sized["MIXER_READ"];
        uint dir = Field(req, "_IOC_DIRSHIFT", "_IOC_DIRBITS");
        if (Field(req, "_IOC_TYPESHIFT", "_IOC_TYPEBITS") == Field(mixer, "_IOC_TYPESHIFT", "_IOC_TYPEBITS"))
        {
            string nr = Fmt.UInt(Field(req, "_IOC_NRSHIFT", "_IOC_NRBITS"));
            if (dir == Dir["_IOC_READ"]) return $"MIXER_READ({nr})";
            if (dir == Dir["_IOC_WRITE"]) return $"MIXER_WRITE({nr})";
        }
        return null;
    }

    private static uint Field(uint req, string shift, string bits) =>
        (req >> (int)Layout[shift]) & (uint)((1UL << (int)Layout[bits]) - 1);

    /// <summary>
    /// evdev's requests with a length in their size field (EVIOCGNAME(len), EVIOCGBIT(ev, len)) or a code in their
    /// number (EVIOCGABS(abs), EVIOCSABS(abs)), as strace names them; null for any other request.
    /// </summary>
    private static string? Evdev(uint req)
    {
        uint size = Field(req, "_IOC_SIZESHIFT", "_IOC_SIZEBITS");
        uint sizeMask = (uint)(((1UL << (int)Layout["_IOC_SIZEBITS"]) - 1) << (int)Layout["_IOC_SIZESHIFT"]);
        uint bare = req & ~sizeMask;
        uint bit = (uint)EvSized["EVIOCGBIT"];
        if (bare >= bit && bare - bit <= EvSized["EV_MAX"])
        {
            uint ev = bare - bit;
            var type = ev == 0 ? "0" : Xlat.Table("ev_types").Value(ev, "EV_???");
            return $"EVIOCGBIT({type}, {Fmt.UInt(size)})";
        }
        foreach (var op in (string[])["EVIOCGABS", "EVIOCSABS"])
        {
            uint b = (uint)EvSized[op];
            if (req >= b && req - b <= EvSized["ABS_MAX"])
                return $"{op}({Xlat.Table("abs_codes").Value(req - b, "ABS_???")})";
        }
        foreach (var op in (string[])["EVIOCGNAME", "EVIOCGPHYS", "EVIOCGUNIQ", "EVIOCGPROP", "EVIOCGMTSLOTS",
                     "EVIOCGKEY", "EVIOCGLED", "EVIOCGSND", "EVIOCGSW"])
            if (bare == (uint)EvSized[op]) return $"{op}({Fmt.UInt(size)})";
        return null;
    }

    /// <summary>_IOC(dir, type, nr, size) for a request the table does not name.</summary>
    public static string Ioc(uint req)
    {
        uint dir = Field(req, "_IOC_DIRSHIFT", "_IOC_DIRBITS");
        uint type = Field(req, "_IOC_TYPESHIFT", "_IOC_TYPEBITS");
        uint nr = Field(req, "_IOC_NRSHIFT", "_IOC_NRBITS");
        uint size = Field(req, "_IOC_SIZESHIFT", "_IOC_SIZEBITS");
        return $"_IOC({Dir.Flags(dir, "_IOC_NONE")}, {Fmt.Hex(type)}, {Fmt.Hex(nr)}, {Fmt.Hex(size)})";
    }
}
