namespace Whyfail.Decoding;

/// <summary>mount (MS_ flags, with the MS_MGC_VAL magic), umount2 (MNT_ flags), fsmount, fsconfig and mount_setattr (the new mount API's flags and commands).</summary>
internal static class MountFamily
{
    private static readonly XlatTable Magic = Xlat.Table("mount_magic");

    public static void Register(Registry r)
    {
        // source and target are paths (by the kernel's names, dev_name and dir_name); type and data strings.
        r.Add("mount", c => [c.Path(0), c.Path(1), c.Str(2), Flags(c[3]), c.Str(4)],
              s => s.Str(2).Str(4));
        r.Add("umount2", c => [c.Path(0), c.Flags(1, "umount_flags")], s => s.Path(0));
        r.Add("fsmount", c => [c.Fd(0), c.Flags(1, "fsmount_flags"), c.Flags(2, "mount_attr_flags")]);
        r.Add("fsconfig", c => c.With((1, c.Enum(1, "fsconfig_cmds", "FSCONFIG_???"))));
        r.Add("mount_setattr", c => c.With((2, c.Flags(2, "at_flags"))));
    }

    public static string Flags(ulong flags)
    {
        ulong mask = Magic["MS_MGC_MSK"], val = Magic["MS_MGC_VAL"];
        var table = Xlat.Table("mount_flags");
        if ((flags & mask) == val)
        {
            ulong rest = flags & ~mask;
            return rest == 0 ? "MS_MGC_VAL" : "MS_MGC_VAL|" + table.Flags(rest);
        }
        return table.Flags(flags);
    }
}
