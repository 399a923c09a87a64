namespace Whyfail.Decoding;

/// <summary>
/// Classic BPF programs (struct sock_fprog: seccomp's SECCOMP_SET_MODE_FILTER, SO_ATTACH_FILTER) as strace prints them:
/// {len=2, filter=[BPF_STMT(BPF_LD|BPF_W|BPF_ABS, 0x4), BPF_JUMP(BPF_JMP|BPF_K|BPF_JEQ, 0x3e, 0, 0x1)]}. An instruction
/// with a jump offset is a BPF_JUMP (k, jt, jf in hex), any other a BPF_STMT whose k the caller may name.
/// The instructions come from a second-level copy (CaptureSpec.Nested) of the filter pointer.
/// </summary>
internal static class Cbpf
{
    private static readonly StructLayout FprogLayout = Xlat.Struct("sock_fprog");
    private static readonly StructLayout Insn = Xlat.Struct("sock_filter");
    private static readonly XlatTable Masks = Xlat.Table("cbpf_masks");

    public static int FprogSize => FprogLayout.Size;
    public static int InsnSize => Insn.Size;
    /// <summary>Where the filter pointer and the length are in a sock_fprog (for the nested copy).</summary>
    public static int FilterOffset => FprogLayout.Off("filter");
    public static int LenOffset => FprogLayout.Off("len");
    /// <summary>Instructions copied (strace -v shows up to BPF_MAXINSNS; the rest shows as ...).</summary>
    public const int Copied = 128;

    /// <summary>{len=N, filter=[...]} from argument <paramref name="i"/>'s copy and its nested copy <paramref name="nested"/>.</summary>
    public static string Fprog(Call c, int i, int nested, Func<ushort, uint, string?>? k)
    {
        if (c[i] == 0) return "NULL";
        if (!c.TryData(i, FprogLayout.Size, out var d)) return c.Ptr(i);
        var m = new Mem(d);
        ushort len = m.U16(FprogLayout.Off("len"));
        ulong filter = m.U64(FprogLayout.Off("filter"));
        return Fmt.Struct(["len=" + Fmt.UDec(len), "filter=" + Program(filter, len, c.Nested(i, nested), k)]);
    }

    private static string Program(ulong addr, ushort len, Events.CapturedArg? cap, Func<ushort, uint, string?>? k)
    {
        if (addr == 0) return "NULL";
        if (len == 0) return "[]";
        if (cap?.Data is not { } data || data.Length < Insn.Size) return Fmt.Ptr(addr);
        var m = new Mem(data);
        var items = new List<string>();
        for (int n = 0; n < len; n++)
        {
            int at = n * Insn.Size;
            if (!m.Has(at, Insn.Size))
            {
                items.Add(cap.Faulted ? "... /* " + Fmt.Ptr(addr + (ulong)at) + " */" : "...");
                break;
            }
            items.Add(Instruction(m, at, k));
        }
        return Fmt.Array(items);
    }

    /// <summary>BPF_STMT(code, k) or BPF_JUMP(code, k, jt, jf).</summary>
    internal static string Instruction(Mem m, int at, Func<ushort, uint, string?>? k)
    {
        ushort code = m.U16(at + Insn.Off("code"));
        byte jt = m.U8(at + Insn.Off("jt")), jf = m.U8(at + Insn.Off("jf"));
        uint kv = m.U32(at + Insn.Off("k"));
        if (jt != 0 || jf != 0)
            return $"BPF_JUMP({Code(code)}, {Fmt.Hex(kv)}, {Fmt.Hex(jt)}, {Fmt.Hex(jf)})";
        return $"BPF_STMT({Code(code)}, {k?.Invoke(code, kv) ?? Fmt.Hex(kv)})";
    }

    public static uint Mask(string field) => (uint)Masks[field];

    /// <summary>The opcode: its class, then the fields that class has (BPF_LD|BPF_W|BPF_ABS); unknown bits in hex.</summary>
    internal static string Code(ushort code)
    {
        uint cls = code & Mask("BPF_CLASS"), rest = code & ~cls;
        string Part(string table, uint v) => Xlat.Table(table).Value(v, "BPF_???");
        string Unknown(uint v) => $"{Fmt.Hex(v)} /* BPF_??? */";
        var parts = new List<string> { Part("cbpf_class", cls) };
        switch (Xlat.Table("cbpf_class").Lookup(cls))
        {
            case "BPF_ST" or "BPF_STX":
                if (rest != 0) parts.Add(Unknown(rest));
                break;
            case "BPF_LD" or "BPF_LDX":
                parts.Add(Part("cbpf_size", code & Mask("BPF_SIZE")));
                parts.Add(Part("cbpf_mode", code & Mask("BPF_MODE")));
                break;
            case "BPF_MISC":
                parts.Add(Part("cbpf_miscop", code & Mask("BPF_MISCOP")));
                rest &= ~Mask("BPF_MISCOP");
                if (rest != 0) parts.Add(Unknown(rest));
                break;
            case "BPF_ALU" or "BPF_JMP":
                parts.Add(Part("cbpf_src", code & Mask("BPF_SRC")));
                parts.Add(Part(cls == Xlat.Table("cbpf_class")["BPF_ALU"] ? "cbpf_op_alu" : "cbpf_op_jmp", code & Mask("BPF_OP")));
                break;
            case "BPF_RET":
                parts.Add(Part("cbpf_rval", code & Mask("BPF_RVAL")));
                rest &= ~Mask("BPF_RVAL");
                if (rest != 0) parts.Add(Unknown(rest));
                break;
        }
        return string.Join("|", parts);
    }

    /// <summary>Whether the opcode is of the named class (BPF_RET, BPF_LD) and, if given, mode (BPF_ABS).</summary>
    public static bool Is(ushort code, string cls, string? mode = null) =>
        Xlat.Table("cbpf_class").Lookup(code & Mask("BPF_CLASS")) == cls
        && (mode is null || Xlat.Table("cbpf_mode").Lookup(code & Mask("BPF_MODE")) == mode);

    /// <summary>A socket filter's absolute load offset in the ancillary areas: SKF_AD_OFF+SKF_AD_PROTOCOL, SKF_NET_OFF+8.</summary>
    public static string? SocketK(ushort code, uint k)
    {
        if (!Is(code, "BPF_LD", "BPF_ABS")) return null;
        var off = Xlat.Table("skf_off");
        uint ad = (uint)off["SKF_AD_OFF"], net = (uint)off["SKF_NET_OFF"], ll = (uint)off["SKF_LL_OFF"];
        if (k >= ad) return "SKF_AD_OFF+" + Xlat.Table("skf_ad").Value(k - ad, "SKF_AD_???");
        if (k >= net) return "SKF_NET_OFF+" + Fmt.UInt(k - net);
        if (k >= ll) return "SKF_LL_OFF+" + Fmt.UInt(k - ll);
        return null;
    }

    /// <summary>A seccomp filter's return value: SECCOMP_RET_ERRNO|0x1 (the action, then its data in hex).</summary>
    public static string? SeccompK(ushort code, uint k)
    {
        if (!Is(code, "BPF_RET")) return null;
        uint action = k & (uint)Xlat.Table("seccomp_ret_masks")["SECCOMP_RET_ACTION_FULL"], data = k & ~action;
        var name = Xlat.Table("seccomp_ret_actions").Value(action, "SECCOMP_RET_???");
        return data != 0 ? name + "|" + Fmt.Hex(data) : name;
    }
}
