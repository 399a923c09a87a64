using System.Globalization;

namespace Whyfail.Decoding;

/// <summary>
/// The structures some ioctl requests read, as strace 6.1 shows them on entry (Families/Ioctl.cs dispatches by request):
/// struct fiemap (FS_IOC_FIEMAP), loop_info, loop_info64 and loop_config (LOOP_SET_STATUS, LOOP_SET_STATUS64,
/// LOOP_CONFIGURE), rand_pool_info (RNDADDENTROPY) and an interface's hardware address (ifr_hwaddr). Layouts come from
/// Data/xlat.tsv; a structure that could not be read whole is shown as its pointer.
/// </summary>
internal static class IoctlStructs
{
    private static readonly StructLayout FiemapL = Xlat.Struct("fiemap");
    private static readonly StructLayout Info = Xlat.Struct("loop_info");
    private static readonly StructLayout Info64 = Xlat.Struct("loop_info64");
    private static readonly StructLayout Config = Xlat.Struct("loop_config");

    /// <summary>Flags by name, the unknown rest in hex; a value with no known flag gets strace's "no name" comment.</summary>
    private static string Flags(XlatTable t, ulong v, string unknown)
    {
        var s = t.Flags(v);
        return v != 0 && s.StartsWith("0x", StringComparison.Ordinal) ? $"{s} /* {unknown} */" : s;
    }

    /// <summary>{fm_start=0, fm_length=4096, fm_flags=FIEMAP_FLAG_SYNC, fm_extent_count=32}.</summary>
    public static string Fiemap(Call c)
    {
        if (!c.TryData(2, FiemapL.Size, out var d)) return c.Ptr(2);
        var m = new Mem(d);
        return Fmt.Struct([
            "fm_start=" + Fmt.UDec(m.U64(FiemapL.Off("fm_start"))),
            "fm_length=" + Fmt.UDec(m.U64(FiemapL.Off("fm_length"))),
            "fm_flags=" + Flags(Xlat.Table("fiemap_flags"), m.U32(FiemapL.Off("fm_flags")), "FIEMAP_FLAG_???"),
            "fm_extent_count=" + Fmt.UInt(m.U32(FiemapL.Off("fm_extent_count"))),
        ]);
    }

    private static string HexArray(Mem m, StructLayout l, string field, int elem) =>
        Fmt.Array(Enumerable.Range(0, l.SizeOf(field) / elem).Select(k => Fmt.Hex(m.Field(l.Off(field) + k * elem, elem))));

    /// <summary>A char array field up to its NUL (the whole array and "..." without one), not limited by -s.</summary>
    private static string Name(Mem m, StructLayout l, string field, int at = 0) =>
        IoctlFamily.FieldString(m, at + l.Off(field), l.SizeOf(field), int.MaxValue);

    /// <summary>The encryption key: as many bytes as its size says (at most the array's).</summary>
    private static string Key(Mem m, StructLayout l, uint keySize, int at = 0)
    {
        int n = (int)Math.Min(keySize, (uint)l.SizeOf("lo_encrypt_key"));
        return StringEscaper.Quote(m.Slice(at + l.Off("lo_encrypt_key"), n), int.MaxValue, false);
    }

    private static string CryptType(uint v) => Xlat.Table("loop_crypt_types").Value(v, "LO_CRYPT_???");

    /// <summary>struct loop_info (LOOP_SET_STATUS).</summary>
    public static string LoopInfo(Call c)
    {
        if (!c.TryData(2, Info.Size, out var d)) return c.Ptr(2);
        var m = new Mem(d);
        uint keySize = m.U32(Info.Off("lo_encrypt_key_size"));
        return Fmt.Struct([
            "lo_number=" + Fmt.Int(m.U32(Info.Off("lo_number"))),
            "lo_device=" + Fmt.Makedev(m.Field(Info.Off("lo_device"), Info.SizeOf("lo_device"))),
            "lo_inode=" + Fmt.UDec(m.Field(Info.Off("lo_inode"), Info.SizeOf("lo_inode"))),
            "lo_rdevice=" + Fmt.Makedev(m.Field(Info.Off("lo_rdevice"), Info.SizeOf("lo_rdevice"))),
            "lo_offset=" + Fmt.Hex(m.U32(Info.Off("lo_offset"))),
            "lo_encrypt_type=" + CryptType(m.U32(Info.Off("lo_encrypt_type"))),
            "lo_encrypt_key_size=" + Fmt.UInt(keySize),
            "lo_flags=" + Flags(Xlat.Table("loop_flags"), m.U32(Info.Off("lo_flags")), "LO_FLAGS_???"),
            "lo_name=" + Name(m, Info, "lo_name"),
            "lo_encrypt_key=" + Key(m, Info, keySize),
            "lo_init=" + HexArray(m, Info, "lo_init", 8),
            "reserved=" + HexArray(m, Info, "reserved", 1),
        ]);
    }

    private static string LoopInfo64Fields(Mem m, int at)
    {
        ulong F(string f) => m.Field(at + Info64.Off(f), Info64.SizeOf(f));
        uint keySize = (uint)F("lo_encrypt_key_size");
        var init = Fmt.Array(Enumerable.Range(0, Info64.SizeOf("lo_init") / 8)
            .Select(k => Fmt.Hex(m.U64(at + Info64.Off("lo_init") + k * 8))));
        return Fmt.Struct([
            "lo_device=" + Fmt.Makedev(F("lo_device")),
            "lo_inode=" + Fmt.UDec(F("lo_inode")),
            "lo_rdevice=" + Fmt.Makedev(F("lo_rdevice")),
            "lo_offset=" + Fmt.Hex(F("lo_offset")),
            "lo_sizelimit=" + Fmt.UDec(F("lo_sizelimit")),
            "lo_number=" + Fmt.UDec(F("lo_number")),
            "lo_encrypt_type=" + CryptType((uint)F("lo_encrypt_type")),
            "lo_encrypt_key_size=" + Fmt.UInt(keySize),
            "lo_flags=" + Flags(Xlat.Table("loop_flags"), F("lo_flags"), "LO_FLAGS_???"),
            "lo_file_name=" + Name(m, Info64, "lo_file_name", at),
            "lo_crypt_name=" + Name(m, Info64, "lo_crypt_name", at),
            "lo_encrypt_key=" + Key(m, Info64, keySize, at),
            "lo_init=" + init,
        ]);
    }

    /// <summary>struct loop_info64 (LOOP_SET_STATUS64).</summary>
    public static string LoopInfo64(Call c) =>
        c.TryData(2, Info64.Size, out var d) ? LoopInfo64Fields(new Mem(d), 0) : c.Ptr(2);

    /// <summary>struct loop_config (LOOP_CONFIGURE): the descriptor, the block size, the loop_info64, __reserved when not zero.</summary>
    public static string LoopConfig(Call c)
    {
        if (!c.TryData(2, Config.Size, out var d)) return c.Ptr(2);
        var m = new Mem(d);
        var f = new List<string>
        {
            "fd=" + Fmt.Int(m.U32(Config.Off("fd"))),
            "block_size=" + Fmt.UInt(m.U32(Config.Off("block_size"))),
            "info=" + LoopInfo64Fields(m, Config.Off("info")),
        };
        var reserved = m.Slice(Config.Off("__reserved"), Config.SizeOf("__reserved"));
        if (reserved.IndexOfAnyExcept((byte)0) >= 0)
            f.Add("__reserved=" + Fmt.Array(Enumerable.Range(0, Config.SizeOf("__reserved") / 8)
                .Select(k => Fmt.Hex(m.U64(Config.Off("__reserved") + k * 8)))));
        return Fmt.Struct(f);
    }

    /// <summary>struct rand_pool_info (RNDADDENTROPY): the counts, then buf_size bytes of buf (limited like -s).</summary>
    public static string RandPoolInfo(Call c)
    {
        var l = Xlat.Struct("rand_pool_info");
        if (!c.TryData(2, l.Size, out var d)) return c.Ptr(2);
        var m = new Mem(d);
        int bufSize = m.I32(l.Off("buf_size"));
        int shown = Math.Min(Math.Max(bufSize, 0), c.Limit);
        string buf = d.Length - l.Size >= shown
            ? StringEscaper.Quote(d.AsSpan(l.Size, shown), int.MaxValue, bufSize > shown)
            : Fmt.Ptr(c[2] + (ulong)l.Size);
        return Fmt.Struct([
            "entropy_count=" + Fmt.Int(m.U32(l.Off("entropy_count"))),
            "buf_size=" + Fmt.Int((uint)bufSize),
            "buf=" + buf,
        ]);
    }

    /// <summary>struct input_keymap_entry (EVIOCSKEYCODE_V2): the scancode's first len bytes (at most its 32).</summary>
    public static string KeymapEntry(Call c)
    {
        var l = Xlat.Struct("input_keymap_entry");
        if (!c.TryData(2, l.Size, out var d)) return c.Ptr(2);
        var m = new Mem(d);
        int len = Math.Min(m.U8(l.Off("len")), l.SizeOf("scancode"));
        return Fmt.Struct([
            "flags=" + Fmt.UInt(m.U8(l.Off("flags"))),
            "len=" + Fmt.UInt(m.U8(l.Off("len"))),
            "index=" + Fmt.UInt(m.U16(l.Off("index"))),
            "keycode=" + Xlat.Table("key_codes").Value(m.U32(l.Off("keycode")), "KEY_???"),
            "scancode=" + Fmt.Array(m.Slice(l.Off("scancode"), len).ToArray().Select(b => Fmt.Hex(b))),
        ]);
    }

    /// <summary>struct blk_user_trace_setup (BLKTRACESETUP): what the program sets (name is the kernel's answer).</summary>
    public static string TraceSetup(Call c)
    {
        var l = Xlat.Struct("blk_user_trace_setup");
        if (!c.TryData(2, l.Size, out var d)) return c.Ptr(2);
        var m = new Mem(d);
        return Fmt.Struct(new[] { "act_mask", "buf_size", "buf_nr", "start_lba", "end_lba", "pid" }
            .Select(f => f + "=" + Fmt.UDec(m.Field(l.Off(f), l.SizeOf(f)))));
    }

    /// <summary>struct blkpg_ioctl_arg (BLKPG): the operation, its flags and length, the partition's address.</summary>
    public static string Blkpg(Call c)
    {
        var l = Xlat.Struct("blkpg_ioctl_arg");
        if (!c.TryData(2, l.Size, out var d)) return c.Ptr(2);
        var m = new Mem(d);
        return Fmt.Struct([
            "op=" + Xlat.Table("blkpg_ops").Value32(m.U32(l.Off("op")), "BLKPG_???"),
            "flags=" + Fmt.Int(m.U32(l.Off("flags"))),
            "datalen=" + Fmt.Int(m.U32(l.Off("datalen"))),
            "data=" + Fmt.Ptr(m.U64(l.Off("data"))),
        ]);
    }

    /// <summary>
    /// ifr_hwaddr: {sa_family=ARPHRD_ETHER, sa_data=00:11:22:33:44:55}, the address as long as the hardware type's
    /// (ETH_ALEN for Ethernet; the whole sa_data for types whose length is not known here).
    /// </summary>
    public static string HwAddr(Mem m, int at, int size)
    {
        ushort type = m.U16(at);
        var name = Xlat.Table("arphrd_types").Lookup(type);
        int len = size - 2;
        if (name is "ARPHRD_ETHER" or "ARPHRD_EETHER" or "ARPHRD_IEEE802")
            len = Math.Min(len, (int)Xlat.Table("hwaddr_sizes")["ETH_ALEN"]);
        var addr = m.Slice(at + 2, len).ToArray();
        return Fmt.Struct([
            "sa_family=" + (name ?? Fmt.Hex(type) + " /* ARPHRD_??? */"),
            "sa_data=" + string.Join(":", addr.Select(b => b.ToString("x2", CultureInfo.InvariantCulture))),
        ]);
    }
}
