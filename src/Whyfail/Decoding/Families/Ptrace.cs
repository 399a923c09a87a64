namespace Whyfail.Decoding;

/// <summary>ptrace: the request, and only the arguments that request uses (as strace shows them).</summary>
internal static class PtraceFamily
{
    private static readonly XlatTable Requests = Xlat.Table("ptrace_requests");

    /// <summary>Bytes copied of addr and data: the structures and sigset decoded below.</summary>
    private const int ArgCopy = 16;

    // addr and data are pointers for the requests decoded below; for the others the copies go unused.
    // data: a whole siginfo_t for PTRACE_SETSIGINFO (the largest structure decoded).
    public static void Register(Registry r) =>
        r.Add("ptrace", Decode, s => s.Fixed(2, ArgCopy).Fixed(3, Math.Max(ArgCopy, SignalFamily.SiginfoSize)));

    private static string[] Decode(Call c)
    {
        var name = Requests.Lookup(c[0]);
        var req = name ?? Requests.Value(c[0], "PTRACE_???");
        // The kernel takes the pid as a pid_t (an int) from the long register, as strace prints it.
        string pid = c.Dec(1);
        return name switch
        {
            "PTRACE_TRACEME" => [req],
            "PTRACE_ATTACH" or "PTRACE_INTERRUPT" or "PTRACE_KILL" or "PTRACE_LISTEN" => [req, pid],
            "PTRACE_SETSIGMASK" => [req, pid, c.UDec(2), SignalFamily.Sigset(c, 3, 2)],
            "PTRACE_GET_SYSCALL_INFO" => [req, pid, c.UDec(2), c.Ptr(3)],
            "PTRACE_SECCOMP_GET_METADATA" => [req, pid, c.UDec(2), Metadata(c)],
            "PTRACE_PEEKSIGINFO" => [req, pid, PeekArgs(c), c.Ptr(3)],
            "PTRACE_SETSIGINFO" => [req, pid, Addr(c, 2), SignalFamily.Siginfo(c, 3)],
            "PTRACE_SEIZE" or "PTRACE_SETOPTIONS" =>
                [req, pid, c.Ptr(2), Xlat.Table("ptrace_options").Flags(c[3])],
            "PTRACE_CONT" or "PTRACE_SYSCALL" or "PTRACE_SINGLESTEP" or "PTRACE_SINGLEBLOCK" or "PTRACE_SYSEMU"
                or "PTRACE_SYSEMU_SINGLESTEP" or "PTRACE_DETACH" =>
                [req, pid, c.Ptr(2), Signals.Format(c.Long(3))],
            "PTRACE_PEEKTEXT" or "PTRACE_PEEKDATA" or "PTRACE_PEEKUSR" or "PTRACE_POKETEXT" or "PTRACE_POKEDATA"
                or "PTRACE_POKEUSR" => [req, pid, c.Hex(2), c.Hex(3)],
            _ => [req, pid, Addr(c, 2), Addr(c, 3)],
        };
    }

    /// <summary>addr and data of a request strace does not decode: pointers (NULL when zero).</summary>
    private static string Addr(Call c, int i) => c[i] == 0 ? "NULL" : c.Hex(i);

    /// <summary>PTRACE_SECCOMP_GET_METADATA's struct seccomp_metadata as passed: {filter_off=N}.</summary>
    private static string Metadata(Call c)
    {
        var l = Xlat.Struct("seccomp_metadata");
        if (c[3] == 0) return "NULL";
        if (!c.TryData(3, l.End("filter_off"), out var d)) return c.Ptr(3);
        return Fmt.Struct(["filter_off=" + Fmt.UDec(new Mem(d).U64(l.Off("filter_off")))]);
    }

    /// <summary>PTRACE_PEEKSIGINFO's struct ptrace_peeksiginfo_args: {off=N, flags=PTRACE_PEEKSIGINFO_SHARED, nr=N}.</summary>
    private static string PeekArgs(Call c)
    {
        var l = Xlat.Struct("ptrace_peeksiginfo_args");
        if (c[2] == 0) return "NULL";
        if (!c.TryData(2, l.Size, out var d)) return c.Ptr(2);
        var m = new Mem(d);
        return Fmt.Struct([
            "off=" + Fmt.UDec(m.U64(l.Off("off"))),
            "flags=" + Xlat.Table("ptrace_peeksiginfo_flags").Flags(m.U32(l.Off("flags"))),
            "nr=" + Fmt.Int(m.U32(l.Off("nr"))),
        ]);
    }
}
