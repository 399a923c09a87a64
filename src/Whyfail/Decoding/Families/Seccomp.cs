namespace Whyfail.Decoding;

/// <summary>seccomp: the operation, its flags, and the filter program header or the action asked about.</summary>
internal static class SeccompFamily
{
    private static readonly XlatTable Ops = Xlat.Table("seccomp_ops");
    private static readonly StructLayout Fprog = Xlat.Struct("sock_fprog");

    public static void Register(Registry r)
    {
        // The filter's instructions through its pointer (sock_fprog.len is an unsigned short: the 4 bytes read as the
        // count may take padding with it; the copy's cap bounds it, and the decoder shows len instructions).
        r.Add("seccomp", Decode, s => s.Fixed(2, Fprog.Size)
            .Nested(0, 2, Cbpf.FilterOffset, Cbpf.LenOffset, sizeof(uint), Cbpf.InsnSize, Cbpf.Copied * Cbpf.InsnSize));
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

    /// <summary>{len=2, filter=[BPF_STMT(BPF_RET|BPF_K, SECCOMP_RET_ALLOW), ...]}</summary>
    private static string Filter(Call c, int i) => Cbpf.Fprog(c, i, 0, Cbpf.SeccompK);

    /// <summary>[SECCOMP_RET_LOG]: the action whose availability is asked.</summary>
    private static string Action(Call c, int i)
    {
        if (c[i] == 0) return "NULL";
        if (!c.TryData(i, 4, out var d)) return c.Ptr(i);
        return "[" + Xlat.Table("seccomp_ret_actions").Value(new Mem(d).U32(0), "SECCOMP_RET_???") + "]";
    }
}
