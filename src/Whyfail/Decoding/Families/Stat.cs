namespace Whyfail.Decoding;

/// <summary>stat, lstat, fstat, newfstatat, statx, statfs, fstatfs (the result buffers are output: pointers).</summary>
internal static class StatFamily
{
    public static void Register(Registry r)
    {
        r.Add("newfstatat", c => [c.Dirfd(0), c.Path(1), c.Ptr(2), c.Flags(3, "at_flags")]);
        r.Add("statx", c => [c.Dirfd(0), c.Path(1), c.Flags(2, "statx_flags", "AT_STATX_SYNC_AS_STAT"),
                             c.Flags(3, "statx_mask"), c.Ptr(4)]);
        // stat, lstat, fstat, statfs, fstatfs: the default notation (path or fd, then the buffer pointer).
    }
}
