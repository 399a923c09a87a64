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
        return [name ?? Cmds.Value32(c.UInt(0), "BPF_???"), attr, c.UDec(2)];
    }

    private static string MapCreate(Call c, int i)
    {
        if (!c.TryData(i, Map.End("map_flags"), out var d)) return c.Ptr(i);
        var m = new Mem(d);
        uint U(string f) => m.U32(Map.Off(f));
        var f = new List<string>
        {
            "map_type=" + Xlat.Table("bpf_map_types").Value(U("map_type"), "BPF_MAP_TYPE_???"),
            "key_size=" + Fmt.UInt(U("key_size")),
            "value_size=" + Fmt.UInt(U("value_size")),
            "max_entries=" + Fmt.UInt(U("max_entries")),
            "map_flags=" + Xlat.Table("bpf_map_flags").Flags(U("map_flags")),
        };
        if (m.Has(Map.Off("map_name"), 1) && m.U8(Map.Off("map_name")) != 0)
            f.Add("map_name=" + StringEscaper.Quote(m.CString(Map.Off("map_name"), Map.SizeOf("map_name")), int.MaxValue, false));
        return Fmt.Struct(f);
    }

    private static string ProgLoad(Call c, int i)
    {
        if (!c.TryData(i, Prog.End("license"), out var d)) return c.Ptr(i);
        var m = new Mem(d);
        bool Has(string f) => m.Has(Prog.Off(f), Prog.SizeOf(f));
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
