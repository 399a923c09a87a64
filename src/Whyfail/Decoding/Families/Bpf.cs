namespace Whyfail.Decoding;

/// <summary>bpf: the command, and for map creation and program loading the head of union bpf_attr.</summary>
internal static class BpfFamily
{
    private static readonly XlatTable Cmds = Xlat.Table("bpf_cmds");
    private static readonly StructLayout Map = Xlat.Struct("bpf_attr_map_create");
    private static readonly StructLayout Prog = Xlat.Struct("bpf_attr_prog_load");
    private static readonly StructLayout Elem = Xlat.Struct("bpf_attr_elem");
    private static readonly StructLayout Obj = Xlat.Struct("bpf_attr_obj");
    private static readonly StructLayout Ids = Xlat.Struct("bpf_attr_ids");
    private static readonly StructLayout Link = Xlat.Struct("bpf_attr_link_create");
    private static readonly StructLayout Attach = Xlat.Struct("bpf_attr_attach");

    /// <summary>Bytes copied of BPF_OBJ_PIN/BPF_OBJ_GET's pathname (a second-level copy).</summary>
    private const int PathCopy = CaptureSpec.StringSize;

    public static void Register(Registry r)
    {
        // union bpf_attr grows with kernels; the caller's size says how much it passed.
        // BPF_OBJ_PIN/BPF_OBJ_GET's pathname is a pointer inside the attribute: a second-level copy. A string has no
        // length beside it, so its own pointer stands as the length (the copy is always the cap: no mapped address
        // is below it); for the other commands the first 8 bytes are no pointer and the copy fails harmlessly.
        // The whole attribute up to a page (WF_MAX_BLOB): bytes past the command's structure are strace's extra_data.
        r.Add("bpf", Decode, s => s.Sized(1, 2, CaptureSpec.PathSize)
            .Nested(0, 1, Obj.Off("pathname"), Obj.Off("pathname"), 8, 1, PathCopy));
    }

    private static string[] Decode(Call c)
    {
        var name = Cmds.Lookup(c.UInt(0));
        string attr = name switch
        {
            "BPF_MAP_CREATE" => MapCreate(c, 1),
            "BPF_PROG_LOAD" => ProgLoad(c, 1),
            _ => Other(c, name) ?? c.Ptr(1),
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

    /// <summary>
    /// The other commands strace 6.1 decodes with a few scalar fields, in its order and with its size checkpoints
    /// (a field added by a later kernel is shown only when the size reaches past its offset); null when the command
    /// is not one of them or its attribute could not be read.
    /// </summary>
    private static string? Other(Call c, string? name)
    {
        uint size = c.UInt(2);
        (StructLayout L, string Last)? shape = name switch
        {
            "BPF_MAP_LOOKUP_ELEM" or "BPF_MAP_LOOKUP_AND_DELETE_ELEM" or "BPF_MAP_UPDATE_ELEM" => (Elem, "flags"),
            "BPF_MAP_DELETE_ELEM" => (Elem, "key"),
            "BPF_MAP_GET_NEXT_KEY" => (Elem, "next_key"),
            "BPF_MAP_FREEZE" => (Elem, "map_fd"),
            "BPF_OBJ_PIN" or "BPF_OBJ_GET" => (Obj, "file_flags"),
            "BPF_PROG_GET_NEXT_ID" or "BPF_MAP_GET_NEXT_ID" or "BPF_BTF_GET_NEXT_ID" or "BPF_LINK_GET_NEXT_ID"
                or "BPF_PROG_GET_FD_BY_ID" or "BPF_MAP_GET_FD_BY_ID" => (Ids, "open_flags"),
            "BPF_BTF_GET_FD_BY_ID" or "BPF_LINK_GET_FD_BY_ID" => (Ids, "start_id"),
            "BPF_LINK_CREATE" => (Link, "link_create.target_btf_id"),
            "BPF_PROG_ATTACH" => (Attach, "replace_bpf_fd"),
            "BPF_PROG_DETACH" => (Attach, "attach_type"),
            _ => null,
        };
        if (shape is not var (l, last)) return null;
        int attrSize = l.End(last);
        var d = Attr(c, 1, attrSize);
        if (d is null) return null;
        var m = new Mem(d);
        uint U(string f) => m.U32(l.Off(f));
        string Fd(string f) => Fmt.Int(U(f));
        string P(string f) => Fmt.Ptr(m.U64(l.Off(f)));
        bool Reaches(string f) => size > l.Off(f);
        string FileMode(string f) => Xlat.Table("bpf_file_mode_flags").Flags(U(f));
        var f = new List<string>();
        switch (name)
        {
            case "BPF_MAP_LOOKUP_ELEM" or "BPF_MAP_LOOKUP_AND_DELETE_ELEM":
                f.AddRange(["map_fd=" + Fd("map_fd"), "key=" + P("key"), "value=" + P("value")]);
                if (Reaches("flags")) f.Add("flags=" + Xlat.Table("bpf_map_lookup_elem_flags").Flags(m.U64(l.Off("flags")), "BPF_ANY"));
                break;
            case "BPF_MAP_UPDATE_ELEM":
                f.AddRange(["map_fd=" + Fd("map_fd"), "key=" + P("key"), "value=" + P("value"),
                    "flags=" + Xlat.Table("bpf_map_update_elem_flags").Value(m.U64(l.Off("flags")), "BPF_???")]);
                break;
            case "BPF_MAP_DELETE_ELEM":
                f.AddRange(["map_fd=" + Fd("map_fd"), "key=" + P("key")]);
                break;
            case "BPF_MAP_GET_NEXT_KEY":
                f.AddRange(["map_fd=" + Fd("map_fd"), "key=" + P("key"), "next_key=" + P("next_key")]);
                break;
            case "BPF_MAP_FREEZE":
                f.Add("map_fd=" + Fd("map_fd"));
                break;
            case "BPF_OBJ_PIN" or "BPF_OBJ_GET":
                f.Add("pathname=" + KeyctlFamily.CStr(m.U64(l.Off("pathname")), c.Nested(1, 0)?.Data, int.MaxValue));
                f.Add("bpf_fd=" + Fd("bpf_fd"));
                if (Reaches("file_flags")) f.Add("file_flags=" + FileMode("file_flags"));
                break;
            case "BPF_PROG_GET_NEXT_ID" or "BPF_MAP_GET_NEXT_ID" or "BPF_BTF_GET_NEXT_ID" or "BPF_LINK_GET_NEXT_ID"
                or "BPF_PROG_GET_FD_BY_ID" or "BPF_MAP_GET_FD_BY_ID":
                string id = name switch
                {
                    "BPF_PROG_GET_FD_BY_ID" => "prog_id",
                    "BPF_MAP_GET_FD_BY_ID" => "map_id",
                    _ => "start_id",
                };
                f.AddRange([id + "=" + Fmt.UInt(U("start_id")), "next_id=" + Fmt.UInt(U("next_id"))]);
                if (Reaches("open_flags")) f.Add("open_flags=" + FileMode("open_flags"));
                break;
            case "BPF_BTF_GET_FD_BY_ID":
                f.Add("btf_id=" + Fmt.UInt(U("start_id")));
                break;
            case "BPF_LINK_GET_FD_BY_ID":
                f.Add("link_id=" + Fmt.UInt(U("start_id")));
                break;
            case "BPF_PROG_ATTACH":
                f.AddRange(["target_fd=" + Fd("target_fd"), "attach_bpf_fd=" + Fd("attach_bpf_fd"),
                    "attach_type=" + Xlat.Table("bpf_attach_types").Value(U("attach_type"), "BPF_???"),
                    "attach_flags=" + Xlat.Table("bpf_attach_flags").Flags(U("attach_flags"))]);
                if (Reaches("replace_bpf_fd")) f.Add("replace_bpf_fd=" + Fd("replace_bpf_fd"));
                break;
            case "BPF_PROG_DETACH":
                f.AddRange(["target_fd=" + Fd("target_fd"),
                    "attach_type=" + Xlat.Table("bpf_attach_types").Value(U("attach_type"), "BPF_???")]);
                break;
            case "BPF_LINK_CREATE":
                uint type = U("link_create.attach_type");
                var lc = new List<string>
                {
                    "prog_fd=" + Fd("link_create.prog_fd"), "target_fd=" + Fd("link_create.target_fd"),
                    "attach_type=" + Xlat.Table("bpf_attach_types").Value(type, "BPF_???"),
                    "flags=" + Fmt.Hex(U("link_create.flags")),
                };
                // past flags strace decodes the union by attach type; only BPF_CGROUP_INET_INGRESS's (0)
                // target_btf_id is shown here, the others (iterators, perf events, kprobe_multi) are left out
                if (Reaches("link_create.target_btf_id") && type == 0 && U("link_create.target_btf_id") != 0)
                    lc.Add("target_btf_id=" + Fmt.UInt(U("link_create.target_btf_id")));
                f.Add("link_create=" + Fmt.Struct(lc));
                // strace's structure ends at flags but for attach type 0 (target_btf_id); for the types whose
                // union it decodes further (not shown here) bytes past flags are no extra data
                if (type != 0 && Xlat.Table("bpf_attach_types").Lookup(type) is "BPF_TRACE_ITER" or "BPF_PERF_EVENT"
                        or "BPF_TRACE_KPROBE_MULTI")
                    return Fmt.Struct(f);
                if (type != 0) attrSize = l.End("link_create.flags");
                break;
        }
        f.AddRange(Extra(c, 1, attrSize));
        return Fmt.Struct(f);
    }

    /// <summary>
    /// What the attribute holds past the command's structure (<paramref name="attrSize"/> bytes, strace 6.1's), as
    /// strace shows it: every byte in hex when any is non-zero (the kernel then fails with E2BIG), with its offsets;
    /// <c>???</c> when the size reaches into memory that could not be read.
    /// </summary>
    private static IEnumerable<string> Extra(Call c, int i, int attrSize)
    {
        uint size = c.UInt(2);
        var cap = c.Cap(i);
        if (size <= attrSize || cap?.Data is not { } d) yield break;
        if (d.Length < size)
        {
            if (cap.Faulted) yield return "???";
            yield break;
        }
        var extra = d.AsSpan(attrSize, (int)size - attrSize);
        if (!extra.ContainsAnyExcept((byte)0)) yield break;
        var sb = new System.Text.StringBuilder(extra.Length * 4 + 32);
        foreach (var b in extra) sb.Append("\\x").Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
        yield return $"extra_data=\"{sb}\" /* bytes {attrSize}..{size - 1} */";
    }
}
