namespace Whyfail.Decoding;

/// <summary>fanotify_init (class | FAN_* flags, open flags for the event files), fanotify_mark.</summary>
internal static class FanotifyFamily
{
    public static void Register(Registry r)
    {
        r.Add("fanotify_init", c => [InitFlags(c.UInt(0)), OpenFamily.Flags(c.UInt(1))]);
        // The mask is 64 bits wide in the prototype; the kernel uses them all (FAN_* events reach bit 30 today).
        r.Add("fanotify_mark", c => [c.Fd(0), Xlat.Table("fan_mark_flags").Flags(c.UInt(1)),
            Xlat.Table("fan_event_flags").Flags(c[2]), Dirfd(c), c.Path(4)]);
    }

    /// <summary>strace's notation: the notification class by name, then the other flags.</summary>
    public static string InitFlags(uint flags)
    {
        uint classBits = (uint)Xlat.Table("fan_class_bits")["FAN_ALL_CLASS_BITS"];
        var cls = Xlat.Table("fan_classes").Value32(flags & classBits, "FAN_CLASS_???");
        uint rest = flags & ~classBits;
        return rest == 0 ? cls : cls + "|" + Xlat.Table("fan_init_flags").Flags(rest);
    }

    /// <summary>FAN_NOFD (-1: the path alone names the object), else a directory descriptor.</summary>
    private static string Dirfd(Call c) =>
        c.Int(3) == (int)Xlat.Table("fan_special")["FAN_NOFD"] ? "FAN_NOFD" : c.Dirfd(3);
}
