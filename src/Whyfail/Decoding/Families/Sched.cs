namespace Whyfail.Decoding;

/// <summary>
/// sched_setscheduler, sched_getscheduler, sched_setparam, sched_getparam, sched_get_priority_min/max,
/// sched_setattr, sched_getattr: policies by name (SCHED_FIFO), struct sched_param as [priority], and struct
/// sched_attr field by field as strace shows them.
/// </summary>
internal static class SchedFamily
{
    private static readonly StructLayout Attr = Xlat.Struct("sched_attr");
    private static readonly XlatTable AttrFlags = Xlat.Table("sched_attr_flags");
    private static readonly int SizeVer0 = (int)Xlat.Table("sched_attr_sizes")["SCHED_ATTR_SIZE_VER0"];
    private static readonly int SizeVer1 = (int)Xlat.Table("sched_attr_sizes")["SCHED_ATTR_SIZE_VER1"];

    public static void Register(Registry r)
    {
        // The CPU mask is not copied: an empty one is [] as strace shows it, else its address.
        r.Add("sched_setaffinity", c => [c.Dec(0), c.UDec32(1), Fmt.ArrayPtr(c[2], c.UInt(1))]);
        r.Add("sched_setscheduler", c => [c.Dec(0), Policy(c.UInt(1)), c.IntPtr(2)], s => s.Fixed(2, 4));
        r.Add("sched_getscheduler", c => [c.Dec(0)]);
        r.Add("sched_setparam", c => [c.Dec(0), c.IntPtr(1)], s => s.Fixed(1, 4));
        // Written by the kernel: nothing to show when the call failed.
        r.Add("sched_getparam", c => [c.Dec(0), c.Ok ? c.IntPtr(1) : c.Ptr(1)], s => s.Fixed(1, 4));
        r.Add("sched_get_priority_min sched_get_priority_max", c => [Policy(c.UInt(0))]);
        // The attribute as passed (entry copy of its size): on E2BIG the kernel writes the size it supports back,
        // shown as strace does: {…} => {size=N}.
        r.Add("sched_setattr", c => [c.Dec(0), SetAttr(c, 1) + SizeAfter(c, 1), c.UDec32(2)],
              s => s.Fixed(1, Math.Max(Attr.Size, 2 * SizeVer1)).Entry(1, Attr.End("size")));
        r.Add("sched_getattr", c => [c.Dec(0), c.Ok ? GetAttr(c, 1) : c.Ptr(1), c.UDec32(2), c.UDec32(3)],
              s => s.Fixed(1, Attr.Size));
    }

    private static string Policy(uint p) => Xlat.Table("sched_policies").Value32(p, "SCHED_???");

    /// <summary>sched_setattr's attribute: its own size field says how much the kernel reads (0: the first version).</summary>
    private static string SetAttr(Call c, int i)
    {
        if (c[i] == 0) return "NULL";
        var d = c.AsPassed(i);
        if (d is null || d.Length < 4) return c.Ptr(i);
        var m = new Mem(d);
        uint usize = m.U32(Attr.Off("size"));
        int size = (int)Math.Min(usize == 0 ? (uint)SizeVer0 : usize, (uint)Attr.Size);
        if (size >= SizeVer0 && d.Length < size) return c.Ptr(i);
        return Render(m, size, usize == 0 ? (uint)SizeVer0 : usize, isSet: true);
    }

    private static string SizeAfter(Call c, int i)
    {
        if (!c.FailedWith("E2BIG") || c.Entry(i) is null || !c.TryData(i, 4, out var after)) return "";
        return " => {size=" + Fmt.UInt(new Mem(after).U32(Attr.Off("size"))) + "}";
    }

    /// <summary>sched_getattr's result: the size the kernel wrote.</summary>
    private static string GetAttr(Call c, int i)
    {
        if (!c.TryData(i, Math.Min((int)c.UInt(2), Attr.Size), out var d) || d.Length < 4) return c.Ptr(i);
        var m = new Mem(d);
        uint written = m.U32(Attr.Off("size"));
        return Render(m, (int)Math.Min(written, (uint)d.Length), written, isSet: false);
    }

    private static string Render(Mem m, int size, uint full, bool isSet)
    {
        var f = new List<string> { "size=" + Fmt.UInt(m.U32(Attr.Off("size"))) };
        if (size >= SizeVer0)
        {
            uint policy = m.U32(Attr.Off("sched_policy"));
            ulong flags = m.U64(Attr.Off("sched_flags"));
            ulong keepPolicy = AttrFlags["SCHED_FLAG_KEEP_POLICY"], keepParams = AttrFlags["SCHED_FLAG_KEEP_PARAMS"];
            if (!isSet || (int)policy < 0 || (flags & (keepPolicy | keepParams)) == 0)
                f.Add("sched_policy=" + Policy(policy));
            f.Add("sched_flags=" + AttrFlags.Flags(flags));
            if (!isSet || (flags & keepParams) == 0)
            {
                f.Add("sched_nice=" + Fmt.Dec(m.I32(Attr.Off("sched_nice"))));
                f.Add("sched_priority=" + Fmt.UInt(m.U32(Attr.Off("sched_priority"))));
                f.Add("sched_runtime=" + Fmt.UDec(m.U64(Attr.Off("sched_runtime"))));
                f.Add("sched_deadline=" + Fmt.UDec(m.U64(Attr.Off("sched_deadline"))));
                f.Add("sched_period=" + Fmt.UDec(m.U64(Attr.Off("sched_period"))));
            }
            if (size >= SizeVer1)
            {
                f.Add("sched_util_min=" + Fmt.UInt(m.U32(Attr.Off("sched_util_min"))));
                f.Add("sched_util_max=" + Fmt.UInt(m.U32(Attr.Off("sched_util_max"))));
            }
        }
        if (full > size) f.Add("...");
        return Fmt.Struct(f);
    }
}
