namespace Whyfail.Decoding;

/// <summary>futex: the operation (FUTEX_WAIT_PRIVATE, ...), and the arguments that operation uses.</summary>
internal static class FutexFamily
{
    private static readonly XlatTable Ops = Xlat.Table("futex_ops");
    private static readonly XlatTable OpFlags = Xlat.Table("futex_op_flags");
    private static readonly StructLayout Waitv = Xlat.Struct("futex_waitv");

    /// <summary>{val=0x1, uaddr=0x7f…, flags=FUTEX_32|FUTEX_PRIVATE_FLAG}, __reserved only when set.</summary>
    private static string Waiter(Mem m, int at)
    {
        var f = new List<string>
        {
            "val=" + Fmt.Hex(m.U64(at + Waitv.Off("val"))),
            "uaddr=" + Fmt.Ptr(m.U64(at + Waitv.Off("uaddr"))),
            "flags=" + Xlat.Table("futex_waitv_flags").Flags(m.U32(at + Waitv.Off("flags"))),
        };
        uint reserved = m.U32(at + Waitv.Off("__reserved"));
        if (reserved != 0) f.Add("__reserved=" + Fmt.Hex(reserved));
        return Fmt.Struct(f);
    }

    public static void Register(Registry r)
    {
        // The fourth argument is a timeout pointer for the waiting operations, a count for the others.
        r.Add("futex", Decode, s => s.Fixed(3, TimeFamily.TimespecSize));
        // futex_waitv(waiters, nr_futexes, flags, timeout, clockid): the array (at most FUTEX_WAITV_MAX, 128) read by its count.
        r.Add("futex_waitv", c => [Arrays.Of(c, 0, c.UInt(1), Waitv.Size, Waiter), c.UDec32(1), c.Hex32(2),
                                   TimeFamily.Timespec(c, 3), Xlat.Table("clock_ids").Value32(c.UInt(4), "CLOCK_???")],
              s => s.Fixed(0, 128 * Waitv.Size).Fixed(3, TimeFamily.TimespecSize));
    }

    /// <summary>
    /// FUTEX_WAIT_PRIVATE, FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME, FUTEX_FD|FUTEX_PRIVATE_FLAG (a _PRIVATE name
    /// only where linux/futex.h defines one); an unknown command is the whole operation in hex.
    /// </summary>
    public static string Op(uint op, out string? cmd)
    {
        uint priv = (uint)OpFlags["FUTEX_PRIVATE_FLAG"], rt = (uint)OpFlags["FUTEX_CLOCK_REALTIME"];
        uint baseOp = op & ~(priv | rt);
        cmd = Ops.Lookup(baseOp);
        if (cmd is null) return Fmt.Hex(op) + " /* FUTEX_??? */";
        var s = (op & priv) == 0 ? cmd : Xlat.Table("futex_private_ops").Lookup(op & ~rt) ?? cmd + "|FUTEX_PRIVATE_FLAG";
        if ((op & rt) != 0) s += "|FUTEX_CLOCK_REALTIME";
        return s;
    }

    /// <summary>
    /// FUTEX_WAKE_OP's val3, FUTEX_OP(op, oparg, cmp, cmparg) field by field as strace shows it:
    /// FUTEX_OP_OPARG_SHIFT&lt;&lt;28|FUTEX_OP_ANDN&lt;&lt;28|0xdfa&lt;&lt;12|FUTEX_OP_CMP_EQ&lt;&lt;24|0xced.
    /// </summary>
    public static string WakeOp(uint val3)
    {
        var fields = Xlat.Table("futex_op_fields");
        static int Shift(uint mask) => System.Numerics.BitOperations.TrailingZeroCount(mask);
        uint opMask = (uint)fields["OP_MASK"], opargMask = (uint)fields["OPARG_MASK"];
        uint cmpMask = (uint)fields["CMP_MASK"], cmpargMask = (uint)fields["CMPARG_MASK"];
        uint opargShift = (uint)fields["FUTEX_OP_OPARG_SHIFT"];
        int opAt = Shift(opMask), opargAt = Shift(opargMask), cmpAt = Shift(cmpMask);
        uint op = (val3 & opMask) >> opAt;
        var parts = new List<string>();
        if ((op & opargShift) != 0) parts.Add($"FUTEX_OP_OPARG_SHIFT<<{opAt}");
        op &= ~opargShift;
        parts.Add((Xlat.Table("futex_wake_ops").Lookup(op) ?? Fmt.Hex(op)) + $"<<{opAt}" +
                  (Xlat.Table("futex_wake_ops").Lookup(op) is null ? " /* FUTEX_OP_??? */" : ""));
        parts.Add(Fmt.Hex((val3 & opargMask) >> opargAt) + $"<<{opargAt}");
        uint cmp = (val3 & cmpMask) >> cmpAt;
        var cmpName = Xlat.Table("futex_wake_cmps").Lookup(cmp);
        parts.Add((cmpName ?? Fmt.Hex(cmp)) + $"<<{cmpAt}" + (cmpName is null ? " /* FUTEX_OP_CMP_??? */" : ""));
        parts.Add(Fmt.Hex(val3 & cmpargMask));
        return string.Join('|', parts);
    }

    private static string[] Decode(Call c)
    {
        var op = Op(c.UInt(1), out var cmd);
        // The kernel reads val, val2 (for the commands that take a count) and val3 as u32.
        string uaddr = c.Ptr(0), val = Fmt.UInt(c.UInt(2)), val2 = Fmt.UInt(c.UInt(3)), uaddr2 = c.Ptr(4);
        string val3 = Xlat.Table("futex_bitset").Lookup(c.UInt(5)) ?? c.Hex32(5);
        string timeout = TimeFamily.Timespec(c, 3);
        return cmd switch
        {
            "FUTEX_WAIT" => [uaddr, op, val, timeout],
            "FUTEX_WAKE" or "FUTEX_FD" => [uaddr, op, val],
            "FUTEX_REQUEUE" => [uaddr, op, val, val2, uaddr2],
            "FUTEX_CMP_REQUEUE" or "FUTEX_CMP_REQUEUE_PI" => [uaddr, op, val, val2, uaddr2, Fmt.UInt(c.UInt(5))],
            "FUTEX_WAKE_OP" => [uaddr, op, val, val2, uaddr2, WakeOp(c.UInt(5))],
            "FUTEX_LOCK_PI" or "FUTEX_LOCK_PI2" => [uaddr, op, timeout],
            "FUTEX_UNLOCK_PI" or "FUTEX_TRYLOCK_PI" => [uaddr, op],
            "FUTEX_WAIT_BITSET" => [uaddr, op, val, timeout, val3],
            "FUTEX_WAKE_BITSET" => [uaddr, op, val, val3],
            "FUTEX_WAIT_REQUEUE_PI" => [uaddr, op, val, timeout, uaddr2],
            _ => [uaddr, op, val, c.Ptr(3), uaddr2, c.Hex32(5)],
        };
    }
}
