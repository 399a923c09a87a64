namespace Whyfail.Decoding;

/// <summary>io_uring_setup (struct io_uring_params), io_uring_enter, io_uring_register.</summary>
internal static class IoUringFamily
{
    private static readonly StructLayout Params = Xlat.Struct("io_uring_params");
    private static readonly XlatTable Setup = Xlat.Table("io_uring_setup_flags");

    public static void Register(Registry r)
    {
        r.Add("io_uring_setup", c => [c.UDec32(0), ParamsArg(c, 1)], s => s.Fixed(1, Params.Size));
        r.Add("io_uring_enter", c => [c.Fd(0), c.UDec32(1), c.UDec32(2), c.Flags(3, "io_uring_enter_flags"), c.Ptr(4), c.UDec(5)]);
        r.Add("io_uring_register", c => [c.Fd(0), Opcode(c.UInt(1)), c.Ptr(2), c.UDec32(3)]);
    }

    private static string Opcode(uint op)
    {
        ulong flag = Xlat.Table("io_uring_register_flags").ValueOr("IORING_REGISTER_USE_REGISTERED_RING", 0);
        var name = Xlat.Table("io_uring_register_ops").Value32(op & ~(uint)flag, "IORING_REGISTER_???");
        return (op & flag) != 0 ? name + "|IORING_REGISTER_USE_REGISTERED_RING" : name;
    }

    /// <summary>{flags=IORING_SETUP_SQPOLL, sq_thread_cpu=0, sq_thread_idle=1000}; the kernel rejects nonzero
    /// reserved words, so they are shown when set. The ring sizes and features are results.</summary>
    private static string ParamsArg(Call c, int i)
    {
        if (c[i] == 0) return "NULL";
        if (!c.TryData(i, Params.Size, out var d)) return c.Ptr(i);
        var m = new Mem(d);
        uint U(string f) => m.U32(Params.Off(f));
        uint flags = U("flags");
        var f = new List<string>
        {
            "flags=" + Setup.Flags(flags),
            "sq_thread_cpu=" + Fmt.UInt(U("sq_thread_cpu")),
            "sq_thread_idle=" + Fmt.UInt(U("sq_thread_idle")),
        };
        if ((flags & Setup["IORING_SETUP_CQSIZE"]) != 0 && !c.Ok) f.Add("cq_entries=" + Fmt.UInt(U("cq_entries")));
        if ((flags & Setup["IORING_SETUP_ATTACH_WQ"]) != 0) f.Add("wq_fd=" + Fmt.Int(U("wq_fd")));
        int resv = Params.Off("resv"), n = Params.SizeOf("resv") / 4;
        bool anyResv = false;
        for (int k = 0; k < n; k++) anyResv |= m.U32(resv + 4 * k) != 0;
        if (anyResv) f.Add("resv=" + Fmt.Array(Enumerable.Range(0, n).Select(k => Fmt.Hex(m.U32(resv + 4 * k)))));
        if (c.Ok)
        {
            f.Add("sq_entries=" + Fmt.UInt(U("sq_entries")));
            f.Add("cq_entries=" + Fmt.UInt(U("cq_entries")));
            f.Add("features=" + Xlat.Table("io_uring_features").Flags(U("features")));
        }
        return Fmt.Struct(f);
    }
}
