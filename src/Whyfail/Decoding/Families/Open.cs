namespace Whyfail.Decoding;

/// <summary>open, openat, openat2, creat: open flags, and the mode only when O_CREAT or O_TMPFILE uses it.</summary>
internal static class OpenFamily
{
    private static readonly XlatTable Access = Xlat.Table("open_access");
    private static readonly XlatTable OpenFlags = Xlat.Table("open_flags");
    private static readonly ulong AccMode = Xlat.Table("open_masks")["O_ACCMODE"];
    private static readonly ulong OCreat = OpenFlags["O_CREAT"];
    /// <summary>__O_TMPFILE, the bit O_TMPFILE adds to O_DIRECTORY: with it the kernel reads the mode, as with O_CREAT.</summary>
    private static readonly ulong OTmpfileBit = Xlat.Table("open_flags_internal")["__O_TMPFILE"];
    /// <summary>open_flags with __O_SYNC and __O_TMPFILE after O_SYNC and O_TMPFILE, in strace's order (a bit alone gets its own name).</summary>
    private static readonly XlatTable AllFlags = WithInternal();
    private static readonly StructLayout How = Xlat.Struct("open_how");

    public static void Register(Registry r)
    {
        r.Add("open", c => WithMode([c.Path(0), Flags(c.UInt(1))], c.UInt(1), c.Octal(2)));
        r.Add("openat", c => WithMode([c.Dirfd(0), c.Path(1), Flags(c.UInt(2))], c.UInt(2), c.Octal(3)));
        r.Add("creat", c => [c.Path(0), c.Octal(1)]);
        // struct open_how is extensible: copy what the caller says it passed (usize), up to a margin.
        r.Add("openat2", c => [c.Dirfd(0), c.Path(1), OpenHow(c, 2), c.UDec(3)],
              s => s.Sized(2, 3, 2 * How.Size));
    }

    /// <summary>The mode argument matters only when the flags create a file.</summary>
    public static bool Creates(ulong flags) => (flags & OCreat) != 0 || (flags & OTmpfileBit) != 0;

    private static XlatTable WithInternal()
    {
        var inner = Xlat.Table("open_flags_internal");
        var list = new List<(string, ulong)>();
        foreach (var (n, v) in OpenFlags.Entries)
        {
            list.Add((n, v));
            if (n == "O_SYNC") list.Add(("__O_SYNC", inner["__O_SYNC"]));
            if (n == "O_TMPFILE") list.Add(("__O_TMPFILE", inner["__O_TMPFILE"]));
        }
        return new XlatTable("open_flags_all", true, list);
    }

    private static string[] WithMode(string[] args, ulong flags, string mode) => Creates(flags) ? [.. args, mode] : args;

    /// <summary>Open flags with the access mode first: O_RDONLY|O_CLOEXEC.</summary>
    public static string Flags(ulong flags)
    {
        // The access mode 3 (both bits) has no O_ name of its own: strace names it by the mask, O_ACCMODE.
        var access = (flags & AccMode) == AccMode ? "O_ACCMODE" : Access.Value(flags & AccMode);
        ulong rest = flags & ~AccMode;
        return rest == 0 ? access : access + "|" + AllFlags.Flags(rest);
    }

    private static string OpenHow(Call c, int i)
    {
        if (!c.TryData(i, How.Size, out var d)) return c.Ptr(i);
        var m = new Mem(d);
        ulong flags = m.U64(How.Off("flags")), mode = m.U64(How.Off("mode")), resolve = m.U64(How.Off("resolve"));
        var f = new List<string> { "flags=" + Flags(flags) };
        if (mode != 0 || Creates(flags)) f.Add("mode=" + Fmt.Octal(mode));
        f.Add("resolve=" + Xlat.Table("resolve_flags").Flags(resolve));
        f.AddRange(c.StructTail(i, How.Size));
        return Fmt.Struct(f);
    }
}
