namespace Whyfail.Decoding;

/// <summary>bpf: the command, and for map creation and program loading the head of union bpf_attr.</summary>
internal static class BpfFamily
{
    private static readonly XlatTable Cmds = Xlat.Table("bpf_cmds");
    private static readonly StructLayout Map = Xlat.Struct("bpf_attr_map_create");
    private static readonly StructLayout Prog = Xlat.Struct("bpf_attr_prog_load");

    public static void Register(Registry r)
    {
        // union bpf_attr grows with kernels; the caller's size says how much it passed.
        r.Add("bpf", Decode, s => s.Sized(1, 2, Math.Max(Map.Size, Prog.Size)));
    }

    private static string[] Decode(Call c)
    {
        var name = Cmds.Lookup(c.UInt(0));
        string attr = name switch
        {
            "BPF_MAP_CREATE" => MapCreate(c, 1),
            "BPF_PROG_LOAD" => ProgLoad(c, 1),
            _ => c.Ptr(1),
        };
        return [name ?? Cmds.Value32(c.UInt(0), "BPF_???"), attr, c.UDec32(2)];
    }

    /// <summary>
    /// The attribute as the kernel reads it: size (an unsigned int) bytes, the rest zero. Null (show the
    /// pointer) when the size is 0 or those bytes could not be read.
    /// </summary>
    private static byte[]? Attr(Call c, int i, int known)
    {
        int size = (int)Math.Min(c.UInt(2), (uint)known);
        if (size == 0 || !c.TryData(i, size, out var d)) return null;
        var r = new byte[known];
        Array.Copy(d, r, size);
        return r;
    }

    private static string MapCreate(Call c, int i)
    {
        uint size = c.UInt(2);
        var d = Attr(c, i, Map.Size);
        if (d is null) return c.Ptr(i);
        var m = new Mem(d);
        bool Within(string f) => size >= Map.End(f);
        uint U(string f) => m.U32(Map.Off(f));
        var f = new List<string>
        {
            "map_type=" + Xlat.Table("bpf_map_types").Value(U("map_type"), "BPF_MAP_TYPE_???"),
            "key_size=" + Fmt.UInt(U("key_size")),
            "value_size=" + Fmt.UInt(U("value_size")),
            "max_entries=" + Fmt.UInt(U("max_entries")),
        };
        if (Within("map_flags")) f.Add("map_flags=" + Xlat.Table("bpf_map_flags").Flags(U("map_flags")));
        // strace's order and conditions: fields past map_flags only as far as the size reaches
        if (Within("inner_map_fd")) f.Add("inner_map_fd=" + Fmt.Dec(m.I32(Map.Off("inner_map_fd"))));
        if (Within("numa_node") && (U("map_flags") & Xlat.Table("bpf_map_flags")["BPF_F_NUMA_NODE"]) != 0)
            f.Add("numa_node=" + Fmt.UInt(U("numa_node")));
        if (size > Map.Off("map_name"))
            f.Add("map_name=" + StringEscaper.Quote(m.CString(Map.Off("map_name"), Map.SizeOf("map_name")), int.MaxValue, false));
        if (Within("map_ifindex")) f.Add("map_ifindex=" + Fmt.UInt(U("map_ifindex")));
        return Fmt.Struct(f);
    }

    private static string ProgLoad(Call c, int i)
    {
        var d = Attr(c, i, Prog.Size);
        if (d is null) return c.Ptr(i);
        var m = new Mem(d);
        uint size = c.UInt(2);
        bool Has(string f) => size >= Prog.End(f);
        var f = new List<string>
        {
            "prog_type=" + Xlat.Table("bpf_prog_types").Value(m.U32(Prog.Off("prog_type")), "BPF_PROG_TYPE_???"),
            "insn_cnt=" + Fmt.UInt(m.U32(Prog.Off("insn_cnt"))),
            "insns=" + Fmt.Ptr(m.U64(Prog.Off("insns"))),
            "license=" + Fmt.Ptr(m.U64(Prog.Off("license"))),
        };
        if (Has("log_buf"))
        {
            f.Add("log_level=" + Fmt.UInt(m.U32(Prog.Off("log_level"))));
            f.Add("log_size=" + Fmt.UInt(m.U32(Prog.Off("log_size"))));
            f.Add("log_buf=" + Fmt.Ptr(m.U64(Prog.Off("log_buf"))));
        }
        if (Has("kern_version")) f.Add("kern_version=" + Fmt.Hex(m.U32(Prog.Off("kern_version"))));
        if (Has("prog_flags")) f.Add("prog_flags=" + Xlat.Table("bpf_prog_flags").Flags(m.U32(Prog.Off("prog_flags"))));
        if (Has("prog_name") && m.U8(Prog.Off("prog_name")) != 0)
            f.Add("prog_name=" + StringEscaper.Quote(m.CString(Prog.Off("prog_name"), Prog.SizeOf("prog_name")), int.MaxValue, false));
        return Fmt.Struct(f);
    }
}
