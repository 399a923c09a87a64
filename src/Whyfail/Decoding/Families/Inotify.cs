namespace Whyfail.Decoding;

/// <summary>inotify_init1, inotify_add_watch (event masks), inotify_rm_watch.</summary>
internal static class InotifyFamily
{
    public static void Register(Registry r)
    {
        r.Add("inotify_init1", c => [c.Flags(0, "inotify_init_flags")]);
        r.Add("inotify_add_watch", c => [c.Fd(0), c.Path(1), c.Flags(2, "inotify_mask")]);
        r.Add("inotify_rm_watch", c => [c.Fd(0), c.Dec(1)]);
    }
}
