namespace Whyfail.Decoding;

/// <summary>ptrace: the request, and only the arguments that request uses (as strace shows them).</summary>
internal static class PtraceFamily
{
    private static readonly XlatTable Requests = Xlat.Table("ptrace_requests");

    public static void Register(Registry r) => r.Add("ptrace", Decode);

    private static string[] Decode(Call c)
    {
        var name = Requests.Lookup(c[0]);
        var req = name ?? Requests.Value(c[0], "PTRACE_???");
        // The kernel takes the pid as a pid_t (an int) from the long register, as strace prints it.
        string pid = c.Dec(1);
        return name switch
        {
            "PTRACE_TRACEME" => [req],
            "PTRACE_ATTACH" or "PTRACE_INTERRUPT" or "PTRACE_KILL" => [req, pid],
            "PTRACE_SEIZE" or "PTRACE_SETOPTIONS" =>
                [req, pid, c.Ptr(2), Xlat.Table("ptrace_options").Flags(c[3])],
            "PTRACE_CONT" or "PTRACE_SYSCALL" or "PTRACE_SINGLESTEP" or "PTRACE_SINGLEBLOCK" or "PTRACE_SYSEMU"
                or "PTRACE_SYSEMU_SINGLESTEP" or "PTRACE_DETACH" or "PTRACE_LISTEN" =>
                [req, pid, c.Ptr(2), Signals.Format(c.Long(3))],
            "PTRACE_PEEKTEXT" or "PTRACE_PEEKDATA" or "PTRACE_PEEKUSR" or "PTRACE_POKETEXT" or "PTRACE_POKEDATA"
                or "PTRACE_POKEUSR" => [req, pid, c.Hex(2), c.Hex(3)],
            _ => [req, pid, Addr(c, 2), Addr(c, 3)],
        };
    }

    /// <summary>addr and data of a request strace does not decode: pointers (NULL when zero).</summary>
    private static string Addr(Call c, int i) => c[i] == 0 ? "NULL" : c.Hex(i);
}
