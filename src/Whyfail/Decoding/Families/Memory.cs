namespace Whyfail.Decoding;

/// <summary>mmap, mprotect, munmap, brk, madvise, mlock*, munlock*, mremap, msync, mincore, pkey_mprotect, mseal, set_mempolicy, mbind,
/// get_mempolicy, remap_file_pages, pkey_alloc, memfd_secret, process_madvise, move_pages.</summary>
internal static class MemoryFamily
{
    private static readonly XlatTable Masks = Xlat.Table("mmap_masks");
    private static readonly XlatTable Types = Xlat.Table("mmap_type");
    private static readonly XlatTable MapFlags = Xlat.Table("mmap_flags");
    private static readonly XlatTable Huge = Xlat.Table("mmap_huge");
    public static void Register(Registry r)
    {
        r.Add("mmap", c => [c.Ptr(0), c.UDec(1), Prot(c[2]), Flags(c[3]), c.Fd(4), c.Hex(5)]);
        r.Add("mprotect", c => [c.Ptr(0), c.UDec(1), Prot(c[2])]);
        r.Add("pkey_mprotect", c => [c.Ptr(0), c.UDec(1), Prot(c[2]), c.Dec(3)]);
        r.Add("munmap mlock munlock", c => [c.Ptr(0), c.UDec(1)]);
        r.Add("brk", c => [c.Ptr(0)]);
        r.Add("madvise", c => [c.Ptr(0), c.UDec(1), c.Enum(2, "madvise_advice", "MADV_???")]);
        r.Add("mlock2", c => [c.Ptr(0), c.UDec(1), c.Flags(2, "mlock2_flags")]);
        r.Add("mlockall", c => [c.Flags(0, "mlockall_flags")]);
        r.Add("mremap", Mremap);
        r.Add("msync", c => [c.Ptr(0), c.UDec(1), c.Flags(2, "msync_flags")]);
        r.Add("mincore", c => [c.Ptr(0), c.UDec(1), c.Ptr(2)]);
        r.Add("mseal", c => [c.Ptr(0), c.UDec(1), c.Hex(2)]);
        // Node masks: maxnode bits in unsigned longs, read by that count (one page at most: 32768 nodes).
        r.Add("set_mempolicy", c => c.With((0, Policy(c.UInt(0))), (1, Nodemask(c, 1, c[2]))), s => s.Fixed(1, NodemaskCopied));
        r.Add("mbind", c => c.With((2, Policy(c.UInt(2))), (3, Nodemask(c, 3, c[4])), (5, c.Flags(5, "mbind_flags"))),
              s => s.Fixed(3, NodemaskCopied));
        r.Add("get_mempolicy", c => [c.Ptr(0), c.Ptr(1), c.UDec(2), c.Ptr(3), Xlat.Table("get_mempolicy_flags").Flags(c[4])]);
        // remap_file_pages reads unsigned longs: prot and flags in full (a value above 32 bits is shown raw, never cut).
        r.Add("remap_file_pages", c => [c.Ptr(0), c.UDec(1), Xlat.Table("mmap_prot").Flags(c[2], "PROT_NONE"), c.UDec(3),
                                        c[4] > uint.MaxValue ? c.Hex(4) : Flags(c[4])]);
        r.Add("pkey_alloc", c => [c.Hex(0), Xlat.Table("pkey_access").Flags(c[1])]);
        r.Add("memfd_secret", c => [c.Flags(0, "memfd_secret_flags")]);
        // Arrays read by their count (at most Arrays.Copied elements: strace shows as many as -s).
        r.Add("process_madvise", c => [c.Fd(0), Arrays.Iovecs(c, 1, c[2]), c.UDec(2),
                                       c.Enum(3, "madvise_advice", "MADV_???"), c.Hex32(4)],
              s => s.Fixed(1, Arrays.Copied * Arrays.IovecSize));
        r.Add("move_pages", c => [c.Dec(0), c.UDec(1), Arrays.Of(c, 2, c[1], 8, (m, at) => Fmt.Ptr(m.U64(at))),
                                  Arrays.Of(c, 3, c[1], 4, (m, at) => Fmt.Int(m.U32(at))), c.Ptr(4), c.Flags(5, "mbind_flags")],
              s => s.Fixed(2, Arrays.Copied * 8).Fixed(3, Arrays.Copied * 4));
    }

    /// <summary>A NUMA policy as strace prints it: the mode (MPOL_BIND), then the mode flags (|MPOL_F_STATIC_NODES).</summary>
    public static string Policy(uint mode)
    {
        var flags = Xlat.Table("mpol_mode_flags");
        uint mask = 0;
        foreach (var (_, v) in flags.Entries) mask |= (uint)v;
        uint f = mode & mask;
        var m = Xlat.Table("mpol_modes").Value(mode & ~mask, "MPOL_???");
        return f == 0 ? m : m + "|" + flags.Flags(f);
    }

    /// <summary>Bytes of a node mask copied (one page: 512 unsigned longs).</summary>
    private const int NodemaskCopied = 4096;

    /// <summary>
    /// A node mask of <paramref name="maxnode"/> bits as strace shows it: its unsigned longs in 16 hex digits,
    /// [0000000000000003, ...]; the kernel reads maxnode - 1 bits, i.e. (maxnode + 62) / 64 longs. The address
    /// when that count overflows or the first long is unreadable.
    /// </summary>
    public static string Nodemask(Call c, int i, ulong maxnode)
    {
        const int bits = 64;
        ulong n = unchecked(maxnode + (bits - 2)) / bits; // wraps for a huge maxnode: caught below
        if (n < maxnode / bits || (maxnode != 0 && n == 0)) return c.Ptr(i);
        return Arrays.Of(c, i, n, 8, (m, at) => m.U64(at).ToString("x16", System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>PROT_READ|PROT_WRITE, or PROT_NONE.</summary>
    public static string Prot(ulong prot) => Xlat.Table("mmap_prot").Flags((uint)prot, "PROT_NONE");

    /// <summary>MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB|MAP_HUGE_2MB: the sharing type first, the huge page size encoded above MAP_HUGE_SHIFT.</summary>
    public static string Flags(ulong flags)
    {
        uint f = (uint)flags;
        uint typeMask = (uint)Masks["MAP_TYPE"];
        int hugeShift = (int)Masks["MAP_HUGE_SHIFT"];
        uint hugeMask = (uint)Masks["MAP_HUGE_MASK"] << hugeShift;
        var parts = new List<string> { Types.Value(f & typeMask, "MAP_???") };
        uint rest = f & ~typeMask & ~hugeMask;
        if (rest != 0) parts.Add(MapFlags.Flags(rest));
        uint huge = f & hugeMask;
        if (huge != 0) parts.Add(Huge.Lookup(huge) ?? $"{huge >> hugeShift}<<MAP_HUGE_SHIFT");
        return string.Join('|', parts);
    }

    private static string[] Mremap(Call c)
    {
        var flags = Xlat.Table("mremap_flags");
        string[] head = [c.Ptr(0), c.UDec(1), c.UDec(2), flags.Flags(c[3])];
        return (c[3] & flags["MREMAP_FIXED"]) != 0 ? [.. head, c.Ptr(4)] : head;
    }
}
