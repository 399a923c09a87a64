namespace Whyfail.Decoding;

/// <summary>getrlimit, setrlimit, prlimit64 (RLIMIT_ resources, struct rlimit), get/setpriority, getrusage.</summary>
internal static class ResourceFamily
{
    private static readonly StructLayout Rlimit = Xlat.Struct("rlimit");

    public static void Register(Registry r)
    {
        r.Add("getrlimit", c => [Resource(c, 0), c.Ptr(1)]);
        r.Add("setrlimit", c => [Resource(c, 0), RlimitArg(c, 1, "RLIM_INFINITY")], s => s.Fixed(1, Rlimit.Size));
        r.Add("prlimit64", c => [c.Dec(0), Resource(c, 1), RlimitArg(c, 2, "RLIM64_INFINITY"), c.Ptr(3)],
              s => s.Fixed(2, Rlimit.Size));
        r.Add("getpriority", c => [c.Enum(0, "priority_which", "PRIO_???"), c.Dec(1)]);
        r.Add("setpriority", c => [c.Enum(0, "priority_which", "PRIO_???"), c.Dec(1), c.Dec(2)]);
        r.Add("getrusage", c => [Xlat.Table("rusage_who").Value32(c.UInt(0), "RUSAGE_???", hex: false), c.Ptr(1)]);
    }

    private static string Resource(Call c, int i) => c.Enum(i, "rlimit_resources", "RLIMIT_???");

    /// <summary>{rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}</summary>
    private static string RlimitArg(Call c, int i, string infinity)
    {
        if (c[i] == 0) return "NULL";
        if (!c.TryData(i, Rlimit.Size, out var d)) return c.Ptr(i);
        var m = new Mem(d);
        return Fmt.Struct([
            "rlim_cur=" + Fmt.Rlim(m.U64(Rlimit.Off("rlim_cur")), infinity),
            "rlim_max=" + Fmt.Rlim(m.U64(Rlimit.Off("rlim_max")), infinity),
        ]);
    }
}
