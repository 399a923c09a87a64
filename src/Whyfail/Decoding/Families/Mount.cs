namespace Whyfail.Decoding;

/// <summary>mount (MS_ flags, with the MS_MGC_VAL magic), umount2 (MNT_ flags), fsmount, fsconfig, mount_setattr, open_tree, fspick,
/// move_mount and fsopen (the new mount API's flags and commands).</summary>
internal static class MountFamily
{
    private static readonly XlatTable Magic = Xlat.Table("mount_magic");
    private static readonly StructLayout Attr = Xlat.Struct("mount_attr");

    /// <summary>{attr_set=MOUNT_ATTR_RDONLY, attr_clr=0, propagation=MS_PRIVATE, userns_fd=0}, the non-zero bytes past it as strace shows them.</summary>
    private static string MountAttr(Call c, int i, ulong size)
    {
        if (c[i] == 0) return "NULL";
        if (size < Xlat.Table("mount_attr_sizes")["MOUNT_ATTR_SIZE_VER0"] || !c.TryData(i, Attr.Size, out var d)) return c.Ptr(i);
        var m = new Mem(d);
        var attrs = Xlat.Table("mount_attr_flags");
        var f = new List<string>
        {
            "attr_set=" + attrs.Flags(m.U64(Attr.Off("attr_set"))),
            "attr_clr=" + attrs.Flags(m.U64(Attr.Off("attr_clr"))),
            "propagation=" + Xlat.Table("mount_flags").Value(m.U64(Attr.Off("propagation")), "MS_???"),
            "userns_fd=" + Fmt.UDec(m.U64(Attr.Off("userns_fd"))),
        };
        f.AddRange(c.StructTail(i, Attr.Size));
        return Fmt.Struct(f);
    }

    public static void Register(Registry r)
    {
        // source and target are paths (by the kernel's names, dev_name and dir_name); type and data strings.
        r.Add("mount", c => [c.Path(0), c.Path(1), c.Str(2), Flags(c[3]), c.Str(4)],
              s => s.Str(2).Str(4));
        r.Add("umount2", c => [c.Path(0), c.Flags(1, "umount_flags")], s => s.Path(0));
        r.Add("fsmount", c => [c.Fd(0), c.Flags(1, "fsmount_flags"), c.Flags(2, "mount_attr_flags")]);
        // fsconfig's value is a string, a path or binary data by command; it is copied as a string up to PATH_MAX - 1 (the
        // length that keeps a string running into an unreadable page readable up to it; a path cut so is shown as its address).
        r.Add("fsconfig", Fsconfig, s => s.Str(3, CaptureSpec.PathSize - 1));
        r.Add("open_tree", c => [c.Dirfd(0), c.Path(1), c.Flags(2, "open_tree_flags")]);
        r.Add("fspick", c => [c.Dirfd(0), c.Path(1), c.Flags(2, "fspick_flags")]);
        r.Add("move_mount", c => [c.Dirfd(0), c.Path(1), c.Dirfd(2), c.Path(3), c.Flags(4, "move_mount_flags")]);
        r.Add("fsopen", c => [c.Str(0), c.Flags(1, "fsopen_flags")]);
        // mount_setattr(dfd, path, flags, attr, size): struct mount_attr read by its size (from MOUNT_ATTR_SIZE_VER0 on).
        r.Add("mount_setattr", c => [c.Dirfd(0), c.Path(1), c.Flags(2, "mount_setattr_flags"), MountAttr(c, 3, c[4]), c.UDec(4)],
              s => s.Sized(3, 4, 2 * Attr.Size));
    }

    private static string[] Fsconfig(Call c)
    {
        var cmd = Xlat.Table("fsconfig_cmds").Lookup(c.UInt(1));
        string value = cmd switch
        {
            "FSCONFIG_SET_STRING" => c.Str(3),
            "FSCONFIG_SET_PATH" or "FSCONFIG_SET_PATH_EMPTY" => c.Path(3),
            _ => c.Ptr(3),
        };
        string aux = cmd is "FSCONFIG_SET_PATH" or "FSCONFIG_SET_PATH_EMPTY" ? c.Dirfd(4) : c.Dec(4);
        return [c.Fd(0), c.Enum(1, "fsconfig_cmds", "FSCONFIG_???"), c.Str(2), value, aux];
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
