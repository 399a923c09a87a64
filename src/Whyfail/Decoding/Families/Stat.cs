namespace Whyfail.Decoding;

/// <summary>stat, lstat, fstat, newfstatat, statx, statfs, fstatfs (the result buffers are output: pointers).</summary>
internal static class StatFamily
{
    public static void Register(Registry r)
    {
        r.Add("newfstatat", c => [c.Dirfd(0), c.Path(1), c.Ptr(2), c.Flags(3, "at_flags")]);
        r.Add("statx", c => [c.Dirfd(0), c.Path(1), StatxFlags(c.UInt(2)), StatxMask(c.UInt(3)), c.Ptr(4)]);
        // stat, lstat, fstat, statfs, fstatfs: the default notation (path or fd, then the buffer pointer).
    }

    /// <summary>strace's statx flags: the sync type (AT_STATX_SYNC_AS_STAT when none), then the other AT_ flags.</summary>
    private static string StatxFlags(uint flags)
    {
        uint syncMask = (uint)Xlat.Table("at_statx_sync_mask")["AT_STATX_SYNC_TYPE"];
        var sync = Xlat.Table("at_statx_sync_types");
        string head = (flags & syncMask) == 0 ? "AT_STATX_SYNC_AS_STAT" : sync.Flags(flags & syncMask);
        uint rest = flags & ~syncMask;
        return rest == 0 ? head : head + "|" + Xlat.Table("at_flags_all").Flags(rest);
    }

    /// <summary>The statx mask, STATX_ALL (the deprecated 0xfff strace still names) first.</summary>
    private static string StatxMask(uint mask)
    {
        ulong all = Xlat.Table("statx_all")["STATX_ALL"];
        if ((mask & all) != all) return Xlat.Table("statx_mask").Flags(mask);
        uint rest = mask & ~(uint)all;
        return rest == 0 ? "STATX_ALL" : "STATX_ALL|" + Xlat.Table("statx_mask").Flags(rest);
    }
}
