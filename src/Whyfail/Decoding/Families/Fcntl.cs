namespace Whyfail.Decoding;

/// <summary>fcntl: the command, and its argument as that command reads it (flags, a signal, struct flock, ...).</summary>
internal static class FcntlFamily
{
    private static readonly XlatTable Cmds = Xlat.Table("fcntl_cmds");
    private static readonly StructLayout Flock = Xlat.Struct("flock");
    private static readonly StructLayout OwnerEx = Xlat.Struct("f_owner_ex");

    public static void Register(Registry r)
    {
        // The third argument is a pointer only for the lock and owner commands; copying it for the others
        // reads a small integer as an address, which fails harmlessly.
        r.Add("fcntl", Decode, s => s.Fixed(2, Flock.Size));
    }

    private static string[] Decode(Call c)
    {
        var name = Cmds.Lookup(c.UInt(1));
        string[] head = [c.Fd(0), name ?? Cmds.Value32(c.UInt(1), "F_???")];
        string? arg = name switch
        {
            "F_GETFD" or "F_GETFL" or "F_GETOWN" or "F_GETSIG" or "F_GETLEASE" or "F_GETPIPE_SZ"
                or "F_GET_SEALS" or "F_CREATED_QUERY" => null,
            "F_DUPFD" or "F_DUPFD_CLOEXEC" or "F_SETOWN" or "F_SETPIPE_SZ" or "F_DUPFD_QUERY" => c.Dec(2),
            "F_SETFD" => c.Flags(2, "fd_flags"),
            "F_SETFL" => OpenFamily.Flags(c.UInt(2)),
            "F_SETSIG" => Signals.Format(c.Int(2)),
            "F_SETLEASE" => c.Enum(2, "lock_types", "F_???"),
            "F_NOTIFY" => c.Flags(2, "dnotify_flags"),
            "F_ADD_SEALS" => c.Flags(2, "seals"),
            "F_GETLK" or "F_SETLK" or "F_SETLKW" or "F_OFD_GETLK" or "F_OFD_SETLK" or "F_OFD_SETLKW" => FlockArg(c, 2),
            "F_SETOWN_EX" => OwnerExArg(c, 2),
            _ => c.Hex(2),
        };
        return arg is null ? head : [.. head, arg];
    }

    /// <summary>{l_type=F_WRLCK, l_whence=SEEK_SET, l_start=0, l_len=0}</summary>
    internal static string FlockArg(Call c, int i)
    {
        if (!c.TryData(i, Flock.Size, out var d)) return c.Ptr(i);
        var m = new Mem(d);
        var f = new List<string>
        {
            "l_type=" + Xlat.Table("lock_types").Value((ulong)(long)m.I16(Flock.Off("l_type")), "F_???"),
            "l_whence=" + Xlat.Table("seek_whence").Value((ulong)(long)m.I16(Flock.Off("l_whence")), "SEEK_???"),
            "l_start=" + Fmt.Dec(m.I64(Flock.Off("l_start"))),
            "l_len=" + Fmt.Dec(m.I64(Flock.Off("l_len"))),
        };
        int pid = m.I32(Flock.Off("l_pid"));
        if (pid != 0) f.Add("l_pid=" + Fmt.Dec(pid));
        return Fmt.Struct(f);
    }

    private static string OwnerExArg(Call c, int i)
    {
        if (!c.TryData(i, OwnerEx.Size, out var d)) return c.Ptr(i);
        var m = new Mem(d);
        return Fmt.Struct([
            "type=" + Xlat.Table("owner_types").Value32(m.U32(OwnerEx.Off("type")), "F_OWNER_???"),
            "pid=" + Fmt.Dec(m.I32(OwnerEx.Off("pid"))),
        ]);
    }
}
