namespace Whyfail.Decoding;

/// <summary>System V IPC: msgget, semget, shmget (the key, IPC_ and SHM_ flags and the permission bits), msgctl, shmctl,
/// semop and semtimedop (struct sembuf arrays).</summary>
internal static class IpcFamily
{
    private static readonly StructLayout Sembuf = Xlat.Struct("sembuf");
    public static void Register(Registry r)
    {
        r.Add("msgget", c => [Key(c.UInt(0)), GetFlags(c.UInt(1))]);
        r.Add("semget", c => [Key(c.UInt(0)), c.Dec(1), GetFlags(c.UInt(2))]);
        r.Add("msgctl", c => [c.Dec(0), CtlCmd(c.UInt(1), "msgctl_cmds", "MSG_???"), c.Ptr(2)]);
        r.Add("shmget", c => [Key(c.UInt(0)), c.UDec(1), ShmgetFlags(c.UInt(2))]);
        r.Add("shmctl", c => [c.Dec(0), CtlCmd(c.UInt(1), "shmctl_cmds", "SHM_???"), c.Ptr(2)]);
        r.Add("semop", c => [c.Dec(0), Arrays.Of(c, 1, c.UInt(2), Sembuf.Size, Op), c.UDec32(2)],
              s => s.Fixed(1, Arrays.Copied * Sembuf.Size));
        r.Add("semtimedop", c => [c.Dec(0), Arrays.Of(c, 1, c.UInt(2), Sembuf.Size, Op), c.UDec32(2), TimeFamily.Timespec(c, 3)],
              s => s.Fixed(1, Arrays.Copied * Sembuf.Size).Fixed(3, TimeFamily.TimespecSize));
    }

    /// <summary>IPC_PRIVATE or the key in hex, as strace shows a key_t.</summary>
    private static string Key(uint key) => key == Xlat.Table("ipc_keys")["IPC_PRIVATE"] ? "IPC_PRIVATE" : Fmt.Hex(key);

    /// <summary>IPC_CREAT|IPC_EXCL|0600: the flags, the unknown rest in hex, then the permission bits in octal.</summary>
    private static string GetFlags(uint flags)
    {
        uint perms = flags & 0x1ff; // the nine permission bits (S_IRWXU|S_IRWXG|S_IRWXO), as ipcperms() checks them
        uint rest = flags & ~0x1ffu;
        var mode = Fmt.Octal(perms);
        return rest == 0 ? mode : Xlat.Table("ipc_flags").Flags(rest) + "|" + mode;
    }

    /// <summary>
    /// IPC_CREAT|IPC_EXCL|SHM_HUGETLB|0x2ce0000|21&lt;&lt;SHM_HUGE_SHIFT|0600: the flags, the unknown rest in hex, the huge page
    /// size (log2) above SHM_HUGE_SHIFT, then the permission bits in octal.
    /// </summary>
    private static string ShmgetFlags(uint flags)
    {
        var masks = Xlat.Table("shm_masks");
        int hugeShift = (int)masks["SHM_HUGE_SHIFT"];
        uint hugeMask = (uint)masks["SHM_HUGE_MASK"] << hugeShift;
        uint perms = flags & 0x1ff;
        uint rest = flags & ~0x1ffu & ~hugeMask, huge = (flags & hugeMask) >> hugeShift;
        var parts = new List<string>();
        if (rest != 0) parts.Add(Xlat.Table("shmget_flags").Flags(rest));
        if (huge != 0) parts.Add($"{huge}<<SHM_HUGE_SHIFT");
        parts.Add(Fmt.Octal(perms));
        return string.Join('|', parts);
    }

    /// <summary>IPC_STAT, MSG_INFO, SHM_LOCK, with |IPC_64 when the newer structure layout is asked for.</summary>
    private static string CtlCmd(uint cmd, string table, string unknown)
    {
        uint ipc64 = (uint)Xlat.Table("ipc_keys")["IPC_64"];
        uint c = cmd & ~ipc64;
        var name = Xlat.Table("ipc_cmds").Lookup(c) ?? Xlat.Table(table).Lookup(c);
        var s = name ?? Fmt.Hex(c) + " /* " + unknown + " */";
        return (cmd & ipc64) != 0 ? s + "|IPC_64" : s;
    }

    /// <summary>{sem_num=0, sem_op=-1, sem_flg=SEM_UNDO}</summary>
    private static string Op(Mem m, int at) => Fmt.Struct([
        "sem_num=" + Fmt.UInt(m.U16(at + Sembuf.Off("sem_num"))),
        "sem_op=" + Fmt.Dec(m.I16(at + Sembuf.Off("sem_op"))),
        "sem_flg=" + Xlat.Table("semop_flags").Flags(m.U16(at + Sembuf.Off("sem_flg"))),
    ]);
}
