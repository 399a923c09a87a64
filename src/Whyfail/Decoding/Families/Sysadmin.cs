namespace Whyfail.Decoding;

/// <summary>
/// System administration and process relations: reboot (the magic numbers and the command), kcmp, ioprio_get/set,
/// quotactl and quotactl_fd (QCMD(command, type)), lookup_dcookie, membarrier, userfaultfd, pidfd_open,
/// landlock_create_ruleset and landlock_add_rule.
/// </summary>
internal static class SysadminFamily
{
    private static readonly StructLayout RulesetAttr = Xlat.Struct("landlock_ruleset_attr");
    private static readonly StructLayout PathBeneath = Xlat.Struct("landlock_path_beneath_attr");
    private static readonly StructLayout EpollSlot = Xlat.Struct("kcmp_epoll_slot");

    public static void Register(Registry r)
    {
        r.Add("reboot", Reboot, s => s.Str(3));
        r.Add("kcmp", Kcmp, s => s.Fixed(4, EpollSlot.Size));
        r.Add("ioprio_get", c => [c.Enum(0, "ioprio_who", "IOPRIO_WHO_???"), c.Dec(1)]);
        r.Add("ioprio_set", c => [c.Enum(0, "ioprio_who", "IOPRIO_WHO_???"), c.Dec(1), Ioprio(c.UInt(2))]);
        r.Add("quotactl", c => Quotactl(c, [], 0, 1), s => s.Str(3, CaptureSpec.PathSize - 1));
        r.Add("quotactl_fd", c => Quotactl(c, [c.Fd(0)], 1, -1));
        r.Add("syslog", Syslog);
        r.Add("lookup_dcookie", c => [c.UDec(0), c.Ptr(1), c.UDec(2)]);
        r.Add("membarrier", c => [c.Enum(0, "membarrier_cmds", "MEMBARRIER_CMD_???"), c.Flags(1, "membarrier_flags"), c.Dec(2)]);
        r.Add("userfaultfd", c => [c.Flags(0, "uffd_flags")]);
        r.Add("pidfd_open", c => [c.Dec(0), c.Flags(1, "pidfd_open_flags")]);
        r.Add("landlock_create_ruleset", c => [Ruleset(c), c.UDec(1), c.Flags(2, "landlock_create_ruleset_flags")],
              s => s.Fixed(0, RulesetAttr.Size));
        r.Add("landlock_add_rule", c => [c.Fd(0), c.Enum(1, "landlock_rule_types", "LANDLOCK_RULE_???"), Rule(c), c.Hex32(3)],
              s => s.Fixed(2, PathBeneath.Size));
    }

    private static string[] Reboot(Call c)
    {
        string cmd = c.Enum(2, "reboot_cmds", "LINUX_REBOOT_CMD_???");
        string[] head = [c.Enum(0, "reboot_magic1", "LINUX_REBOOT_MAGIC_???"), c.Enum(1, "reboot_magic2", "LINUX_REBOOT_MAGIC_???"), cmd];
        // Only LINUX_REBOOT_CMD_RESTART2 reads its fourth argument, a command string.
        return cmd == "LINUX_REBOOT_CMD_RESTART2" ? [.. head, c.Str(3)] : head;
    }

    private static string[] Kcmp(Call c)
    {
        var type = Xlat.Table("kcmp_types").Lookup(c.UInt(2));
        string[] head = [c.Dec(0), c.Dec(1), c.Enum(2, "kcmp_types", "KCMP_???")];
        return type switch
        {
            // KCMP_FILE compares two descriptors; KCMP_EPOLL_TFD a descriptor and a kcmp_epoll_slot.
            "KCMP_FILE" => [.. head, c.Fd(3), c.Fd(4)],
            "KCMP_EPOLL_TFD" => [.. head, c.Fd(3), EpollSlotArg(c)],
            null => [.. head, c.Hex(3), c.Hex(4)],
            _ => head,
        };
    }

    /// <summary>struct kcmp_epoll_slot: {efd=3, tfd=4, toff=0}.</summary>
    private static string EpollSlotArg(Call c)
    {
        if (c[4] == 0) return "NULL";
        if (!c.TryData(4, EpollSlot.Size, out var d)) return c.Ptr(4);
        var m = new Mem(d);
        return Fmt.Struct([
            "efd=" + Fmt.Int(m.U32(EpollSlot.Off("efd"))),
            "tfd=" + Fmt.Int(m.U32(EpollSlot.Off("tfd"))),
            "toff=" + Fmt.UInt(m.U32(EpollSlot.Off("toff"))),
        ]);
    }

    /// <summary>
    /// syslog(type, bufp, len): the action as a number with its name in a comment, as strace shows it; nothing more for
    /// the actions that ignore bufp and len, the console level (LOGLEVEL_*) for SYSLOG_ACTION_CONSOLE_LEVEL.
    /// </summary>
    private static string[] Syslog(Call c)
    {
        static string Verbose(int v, string table, string unknown) =>
            Fmt.Int((uint)v) + " /* " + (Xlat.Table(table).Lookup((ulong)(long)v) ?? unknown) + " */";
        int type = c.Int(0);
        string action = Verbose(type, "syslog_actions", "SYSLOG_ACTION_???");
        return Xlat.Table("syslog_actions").Lookup((ulong)(long)type) switch
        {
            "SYSLOG_ACTION_CLOSE" or "SYSLOG_ACTION_OPEN" or "SYSLOG_ACTION_CLEAR" or "SYSLOG_ACTION_CONSOLE_OFF"
                or "SYSLOG_ACTION_CONSOLE_ON" or "SYSLOG_ACTION_SIZE_UNREAD" or "SYSLOG_ACTION_SIZE_BUFFER" => [action],
            "SYSLOG_ACTION_CONSOLE_LEVEL" => [action, c.Ptr(1), Verbose(c.Int(2), "log_levels", "LOGLEVEL_???")],
            _ => [action, c.Ptr(1), Fmt.Int((uint)c.Int(2))],
        };
    }

    /// <summary>IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, 4): the class above IOPRIO_CLASS_SHIFT, the level below.</summary>
    internal static string Ioprio(uint v)
    {
        var l = Xlat.Table("ioprio_layout");
        int shift = (int)l["IOPRIO_CLASS_SHIFT"];
        uint data = v & (uint)l["IOPRIO_PRIO_MASK"];
        return $"IOPRIO_PRIO_VALUE({Xlat.Table("ioprio_class").Value(v >> shift, "IOPRIO_CLASS_???")}, {Fmt.UInt(data)})";
    }

    /// <summary>QCMD(Q_QUOTAON, USRQUOTA): the command above SUBCMDSHIFT, the quota type below.</summary>
    private static string Qcmd(uint cmd)
    {
        var l = Xlat.Table("quota_layout");
        int shift = (int)l["SUBCMDSHIFT"];
        uint type = cmd & (uint)l["SUBCMDMASK"];
        return $"QCMD({Xlat.Table("quota_cmds").Value(cmd >> shift, "Q_???")}, {Xlat.Table("quota_types").Value(type, "???QUOTA")})";
    }

    /// <summary>
    /// quotactl(cmd, special, id, addr) and quotactl_fd(fd, cmd, id, addr): strace shows what each command reads — the
    /// quota format and the quota file for Q_QUOTAON, nothing more for Q_QUOTAOFF and Q_SYNC, the id and the buffer otherwise.
    /// </summary>
    private static string[] Quotactl(Call c, string[] head, int cmdArg, int specialArg)
    {
        int shift = (int)Xlat.Table("quota_layout")["SUBCMDSHIFT"];
        uint cmd = c.UInt(cmdArg);
        var name = Xlat.Table("quota_cmds").Lookup(cmd >> shift);
        var args = new List<string>(head) { Qcmd(cmd) };
        if (specialArg >= 0) args.Add(c.Path(specialArg));
        int id = cmdArg + (specialArg >= 0 ? 2 : 1), addr = id + 1;
        switch (name)
        {
            case "Q_QUOTAON":
                args.Add(Xlat.Table("quota_formats").Value32(c.UInt(id), "QFMT_VFS_???"));
                args.Add(c.Path(addr));
                break;
            case "Q_QUOTAOFF" or "Q_SYNC" or "Q_XQUOTASYNC":
                break;
            case "Q_GETFMT" or "Q_GETINFO" or "Q_SETINFO" or "Q_XGETQSTAT" or "Q_XGETQSTATV" or "Q_XQUOTAON"
                or "Q_XQUOTAOFF" or "Q_XQUOTARM":
                args.Add(c.Ptr(addr));
                break;
            default:
                args.Add(Fmt.Id(c[id]));
                args.Add(c.Ptr(addr));
                break;
        }
        return [.. args];
    }

    /// <summary>{handled_access_fs=LANDLOCK_ACCESS_FS_EXECUTE, ...} for the fields the size covers.</summary>
    private static string Ruleset(Call c)
    {
        if (c[0] == 0) return "NULL";
        ulong size = c[1];
        int field = RulesetAttr.End("handled_access_fs");
        if (size < (ulong)field || !c.TryData(0, field, out var d)) return c.Ptr(0);
        var s = "handled_access_fs=" + Xlat.Table("landlock_access_fs").Flags(new Mem(d).U64(RulesetAttr.Off("handled_access_fs")));
        return "{" + s + (size > (ulong)field ? ", ...}" : "}");
    }

    /// <summary>landlock_path_beneath_attr for LANDLOCK_RULE_PATH_BENEATH; the pointer otherwise.</summary>
    private static string Rule(Call c)
    {
        if (c[2] == 0) return "NULL";
        if (Xlat.Table("landlock_rule_types").Lookup(c.UInt(1)) != "LANDLOCK_RULE_PATH_BENEATH" ||
            !c.TryData(2, PathBeneath.Size, out var d)) return c.Ptr(2);
        var m = new Mem(d);
        return Fmt.Struct([
            "allowed_access=" + Xlat.Table("landlock_access_fs").Flags(m.U64(PathBeneath.Off("allowed_access"))),
            "parent_fd=" + Fmt.Int(m.U32(PathBeneath.Off("parent_fd"))),
        ]);
    }
}
