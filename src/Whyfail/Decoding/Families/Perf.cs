using System.Numerics;

namespace Whyfail.Decoding;

/// <summary>perf_event_open: struct perf_event_attr field by field, then pid, cpu, group_fd and flags.</summary>
internal static class PerfFamily
{
    private static readonly StructLayout Attr = Xlat.Struct("perf_event_attr");
    private static readonly XlatTable Bits = Xlat.Table("perf_attr_bits");
    private static readonly XlatTable Types = Xlat.Table("perf_types");
    private static readonly XlatTable Sizes = Xlat.Table("perf_attr_sizes");
    private static readonly XlatTable SampleType = Xlat.Table("perf_sample_type");

    /// <summary>
    /// PERF_ATTR_SIZE_VER8, the size of the struct in current kernels: the capture size. The installed headers (6.1)
    /// predate it, so it is a row of Data/xlat_internal.tsv declared from the kernel's include/uapi/linux/perf_event.h, in
    /// a table of its own (perf_attr_sizes_kernel): the sizes this decoder names are the headers' (strace's, VER0..VER7).
    /// </summary>
    internal static readonly int AttrSizeVer8 = (int)Xlat.Table("perf_attr_sizes_kernel")["PERF_ATTR_SIZE_VER8"];

    /// <summary>config3, what VER8 added: the __u64 that ends at VER8, just after VER7's fields.</summary>
    private static readonly int Config3Offset = (int)Sizes["PERF_ATTR_SIZE_VER7"];

    public static void Register(Registry r)
    {
        // flags is an unsigned long: all 64 bits (a 32-bit view would hide high bits the kernel rejects).
        r.Add("perf_event_open", c => [AttrArg(c, 0), c.Dec(1), c.Dec(2), c.Dec(3), Xlat.Table("perf_open_flags").Flags(c[4])],
              s => s.Fixed(0, Math.Max(AttrSizeVer8, Attr.Size)).Entry(0, Attr.End("size")));
    }

    private static string SizeText(uint size) => Fmt.UDec(size) + (Sizes.Lookup(size) is { } n ? $" /* {n} */" : "");

    /// <summary>strace's " => 112" on E2BIG: the size the kernel wrote back (only when the entry copy says what was passed).</summary>
    private static string SizeAfter(Call c, int i)
    {
        if (!c.FailedWith("E2BIG") || c.Entry(i) is null || !c.TryData(i, Attr.End("size"), out var after)) return "";
        return " => " + SizeText(new Mem(after).U32(Attr.Off("size")));
    }

    private static string AttrArg(Call c, int i)
    {
        if (c[i] == 0) return "NULL";
        // As the program passed it: on E2BIG the kernel writes the size it supports into attr->size.
        var d = c.AsPassed(i);
        int ver0 = (int)Sizes["PERF_ATTR_SIZE_VER0"];
        if (d is null || d.Length < ver0) return c.Ptr(i);
        var m = new Mem(d);
        uint type = m.U32(Attr.Off("type"));
        uint size = m.U32(Attr.Off("size"));
        // The kernel reads attr->size bytes (0 means the first version); only fields inside both that and
        // what was copied are shown.
        int avail = Math.Min(size == 0 ? ver0 : (int)Math.Min(size, int.MaxValue), d.Length);
        bool Has(string f) => Attr.End(f) <= avail;
        ulong U64(string f) => m.U64(Attr.Off(f));
        ulong Field(string f) => m.Field(Attr.Off(f), Attr.SizeOf(f));

        var f = new List<string>();
        var typeName = Types.Lookup(type);
        f.Add("type=" + (typeName ?? Fmt.UDec(type)));
        f.Add("size=" + SizeText(size) + SizeAfter(c, i));
        f.Add("config=" + Config(typeName, U64("config")));

        ulong bits = m.U64(Attr.Off("read_format") + 8);
        bool freq = (bits & Bits["freq"]) != 0;
        f.Add((freq ? "sample_freq=" : "sample_period=") + Fmt.UDec(U64("sample_period")));
        ulong sampleType = U64("sample_type");
        f.Add("sample_type=" + SampleType.Flags(sampleType));
        f.Add("read_format=" + Xlat.Table("perf_read_format").Flags(U64("read_format")));
        f.AddRange(Bitfield(bits));

        bool watermark = (bits & Bits["watermark"]) != 0;
        f.Add((watermark ? "wakeup_watermark=" : "wakeup_events=") + Fmt.UDec(Field("wakeup_events")));
        if (typeName == "PERF_TYPE_BREAKPOINT")
        {
            // An enumeration, as strace prints it: a value up to X|RW that names nothing is "invalid", above that unknown.
            var bpType = Xlat.Table("hw_breakpoint_type");
            ulong bt = Field("bp_type");
            f.Add("bp_type=" + bpType.Value(bt, bt <= bpType["HW_BREAKPOINT_INVALID"] ? "HW_BREAKPOINT_INVALID" : "HW_BREAKPOINT_???"));
            if (Has("config1")) f.Add("bp_addr=" + Fmt.Ptr(U64("config1")));
            if (Has("config2")) f.Add("bp_len=" + Fmt.UDec(U64("config2")));
        }
        else
        {
            if (Has("config1") && U64("config1") != 0) f.Add("config1=" + Fmt.Hex(U64("config1")));
            if (Has("config2") && U64("config2") != 0) f.Add("config2=" + Fmt.Hex(U64("config2")));
        }
        if (Has("branch_sample_type") && (U64("branch_sample_type") != 0 || (sampleType & SampleType["PERF_SAMPLE_BRANCH_STACK"]) != 0))
            f.Add("branch_sample_type=" + Xlat.Table("perf_branch_sample_type").Flags(U64("branch_sample_type")));
        void NonZero(string name, Func<ulong, string> fmt)
        {
            if (Has(name) && Field(name) != 0) f.Add(name + "=" + fmt(Field(name)));
        }
        NonZero("sample_regs_user", Fmt.Hex);
        NonZero("sample_stack_user", Fmt.UDec);
        if (Has("clockid") && (bits & Bits["use_clockid"]) != 0)
            f.Add("clockid=" + Xlat.Table("clock_ids").Value32((uint)Field("clockid"), "CLOCK_???"));
        NonZero("sample_regs_intr", Fmt.Hex);
        NonZero("aux_watermark", Fmt.UDec);
        NonZero("sample_max_stack", Fmt.UDec);
        NonZero("aux_sample_size", Fmt.UDec);
        NonZero("sig_data", Fmt.Hex);
        if (AttrSizeVer8 <= avail && m.U64(Config3Offset) != 0) f.Add("config3=" + Fmt.Hex(m.U64(Config3Offset)));
        return Fmt.Struct(f);
    }

    /// <summary>The event within its type: PERF_COUNT_HW_CPU_CYCLES, or the cache triple.</summary>
    private static string Config(string? type, ulong config)
    {
        switch (type)
        {
            case "PERF_TYPE_HARDWARE":
            {
                // The high half selects a PMU (PERF_PMU_TYPE_SHIFT) on hybrid systems: 0x8<<32|PERF_COUNT_HW_CPU_CYCLES, as strace prints it.
                var id = Xlat.Table("perf_hw_ids").Value(config & 0xffffffff, "PERF_COUNT_HW_???");
                return High(config, 32) + id;
            }
            case "PERF_TYPE_TRACEPOINT":
                return Fmt.UDec(config); // a tracepoint id (tracing/events/…/id)
            case "PERF_TYPE_SOFTWARE":
                return Xlat.Table("perf_sw_ids").Value(config, "PERF_COUNT_SW_???");
            case "PERF_TYPE_HW_CACHE":
            {
                // perf_event.h: config = id | (op << 8) | (result << 16), a PMU type in the high half; strace's order, high to low.
                // An unnamed part is its bare number (0x3<<8), as strace prints it inside the expression.
                var id = Xlat.Table("perf_hw_cache_ids").Value(config & 0xff);
                var op = Xlat.Table("perf_hw_cache_ops").Value((config >> 8) & 0xff);
                var res = Xlat.Table("perf_hw_cache_results").Value((config >> 16) & 0xff);
                ulong mid = (config & 0xffffffff) >> 24;
                return High(config, 32) + (mid == 0 ? "" : Fmt.Hex(mid) + "<<24|") + $"{res}<<16|{op}<<8|{id}";
            }
            default:
                return Fmt.Hex(config);
        }
    }

    /// <summary>The bits of <paramref name="config"/> from <paramref name="shift"/> up as strace prints them ("0xfaceca75&lt;&lt;32|"), or "".</summary>
    private static string High(ulong config, int shift) => (config >> shift) == 0 ? "" : Fmt.Hex(config >> shift) + "<<" + shift + "|";

    /// <summary>
    /// What linux/perf_event.h's comment on precise_ip says each value means (strace shows it the same way).
    /// </summary>
    private static readonly string[] PreciseIp = ["arbitrary skid", "constant skid", "requested to have 0 skid", "must have 0 skid"];

    /// <summary>Every named bit of the flags word, in the header's order, as strace -v shows them (disabled=0,
    /// precise_ip=1 /* constant skid */), then the bits the headers do not name as __reserved_1, shifted down past
    /// the known ones, with the bit range they occupy.</summary>
    private static IEnumerable<string> Bitfield(ulong word)
    {
        ulong known = 0;
        foreach (var (name, mask) in Bits.Entries)
        {
            known |= mask;
            ulong v = (word & mask) >> BitOperations.TrailingZeroCount(mask);
            yield return name + "=" + Fmt.UDec(v) + (name == "precise_ip" && v < (ulong)PreciseIp.Length ? $" /* {PreciseIp[v]} */" : "");
        }
        ulong rest = word & ~known;
        if (rest == 0) yield break;
        int knownBits = 64 - BitOperations.LeadingZeroCount(known);
        bool above = knownBits < 64 && (rest & ((1UL << knownBits) - 1)) == 0;
        yield return "__reserved_1=" + (above ? Fmt.Hex(rest >> knownBits) + $" /* Bits 63..{knownBits} */" : Fmt.Hex(rest));
    }
}
