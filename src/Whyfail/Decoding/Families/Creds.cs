namespace Whyfail.Decoding;

/// <summary>The setuid family (ids, with -1 for "unchanged"), setgroups, capget and capset.</summary>
internal static class CredsFamily
{
    private static readonly StructLayout Header = Xlat.Struct("cap_user_header");
    private static readonly StructLayout Data = Xlat.Struct("cap_user_data");
    private static readonly XlatTable Versions = Xlat.Table("cap_versions");

    public static void Register(Registry r)
    {
        r.Add("setuid setgid setfsuid setfsgid", c => [Fmt.Id(c[0])]);
        r.Add("setreuid setregid", c => [Fmt.Id(c[0]), Fmt.Id(c[1])]);
        r.Add("setresuid setresgid", c => [Fmt.Id(c[0]), Fmt.Id(c[1]), Fmt.Id(c[2])]);
        r.Add("getresuid getresgid", c => [c.Ptr(0), c.Ptr(1), c.Ptr(2)]);
        // setgroups' list read by its count (gid_t, -1 shown as -1); getgroups' is a result: the pointer.
        r.Add("setgroups", c => [c.Dec(0), Arrays.Of(c, 1, c.UInt(0), 4, (m, at) => Fmt.Id(m.U32(at)))],
              s => s.Fixed(1, 128 * 4));
        r.Add("getgroups", c => [c.Dec(0), c.Ptr(1)]);
        // capget's data is its result; capset's is its input (two structs for versions 2 and 3).
        // The header as passed (entry copy): on a bad version the kernel writes its preferred one back.
        r.Add("capget", c => [HeaderArg(c, 0), c.Ptr(1)], s => s.Fixed(0, Header.Size).Entry(0, Header.Size));
        r.Add("capset", c => [HeaderArg(c, 0), DataArg(c, 1)],
              s => s.Fixed(0, Header.Size).Fixed(1, 2 * Data.Size).Entry(0, Header.Size));
    }

    private static string HeaderArg(Call c, int i)
    {
        if (c[i] == 0) return "NULL";
        var d = c.AsPassed(i);
        if (d is null || d.Length < Header.Size) return c.Ptr(i);
        var m = new Mem(d);
        return Fmt.Struct([
            "version=" + Versions.Value32(m.U32(Header.Off("version")), "_LINUX_CAPABILITY_VERSION_???"),
            "pid=" + Fmt.Dec(m.I32(Header.Off("pid"))),
        ]);
    }

    /// <summary>{effective=1&lt;&lt;CAP_CHOWN|..., permitted=..., inheritable=...}; version 1 has one 32-bit word.</summary>
    private static string DataArg(Call c, int i)
    {
        if (c[i] == 0) return "NULL";
        var h = c.AsPassed(0);
        uint version = h is not null && h.Length >= Header.Size ? new Mem(h).U32(Header.Off("version")) : 0;
        int words = version == (uint)Versions["_LINUX_CAPABILITY_VERSION_1"] ? 1 : 2;
        if (!c.TryData(i, words * Data.Size, out var d)) return c.Ptr(i);
        var m = new Mem(d);
        ulong Set(string field)
        {
            ulong v = m.U32(Data.Off(field));
            if (words == 2) v |= (ulong)m.U32(Data.Size + Data.Off(field)) << 32;
            return v;
        }
        return Fmt.Struct([
            "effective=" + Capabilities.FormatSet(Set("effective")),
            "permitted=" + Capabilities.FormatSet(Set("permitted")),
            "inheritable=" + Capabilities.FormatSet(Set("inheritable")),
        ]);
    }
}
