namespace Whyfail.Decoding;

/// <summary>seccomp: the operation, its flags, and the filter program header or the action asked about.</summary>
internal static class SeccompFamily
{
    private static readonly XlatTable Ops = Xlat.Table("seccomp_ops");
    private static readonly StructLayout Fprog = Xlat.Struct("sock_fprog");

    public static void Register(Registry r)
    {
        r.Add("seccomp", Decode, s => s.Fixed(2, Fprog.Size));
    }

    private static string[] Decode(Call c)
    {
        var name = Ops.Lookup(c.UInt(0));
        var op = name ?? Ops.Value32(c.UInt(0), "SECCOMP_???");
        return name switch
        {
            "SECCOMP_SET_MODE_FILTER" => [op, c.Flags(1, "seccomp_filter_flags"), Filter(c, 2)],
            "SECCOMP_GET_ACTION_AVAIL" => [op, c.Hex32(1), Action(c, 2)],
            _ => [op, c.Hex32(1), c.Ptr(2)],
        };
    }

    /// <summary>{len=12, filter=0x...}</summary>
    private static string Filter(Call c, int i)
    {
        if (c[i] == 0) return "NULL";
        if (!c.TryData(i, Fprog.Size, out var d)) return c.Ptr(i);
        var m = new Mem(d);
        return Fmt.Struct([
            "len=" + Fmt.UDec(m.U16(Fprog.Off("len"))),
            "filter=" + Fmt.Ptr(m.U64(Fprog.Off("filter"))),
        ]);
    }

    /// <summary>[SECCOMP_RET_LOG]: the action whose availability is asked.</summary>
    private static string Action(Call c, int i)
    {
        if (c[i] == 0) return "NULL";
        if (!c.TryData(i, 4, out var d)) return c.Ptr(i);
        return "[" + Xlat.Table("seccomp_ret_actions").Value(new Mem(d).U32(0), "SECCOMP_RET_???") + "]";
    }
}
