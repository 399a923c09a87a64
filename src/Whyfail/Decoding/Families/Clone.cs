namespace Whyfail.Decoding;

/// <summary>clone (flags with the exit signal in the low byte), clone3 (struct clone_args), fork, vfork, unshare, setns.</summary>
internal static class CloneFamily
{
    private static readonly XlatTable Flags = Xlat.Table("clone_flags");
    private static readonly ulong CSignal = Xlat.Table("clone_masks")["CSIGNAL"];
    private static readonly StructLayout Args = Xlat.Struct("clone_args");
    private static readonly int ArgsVer0 = (int)Xlat.Table("clone_args_sizes")["CLONE_ARGS_SIZE_VER0"];

    public static void Register(Registry r)
    {
        r.Add("clone", Clone);
        // struct clone_args is extensible: copy what the caller says it passed (the kernel reads up to a page), and the
        // set_tid array it points to (at most MAX_PID_NS_LEVEL, 32, pid_t).
        r.Add("clone3", c => [CloneArgs(c, 0), c.UDec(1)],
              s => s.Sized(0, 1, ArgsCopied).Nested(0, 0, Args.Off("set_tid"), Args.Off("set_tid_size"), Args.SizeOf("set_tid_size"),
                                                    PidSize, SetTidMax * PidSize));
        // unshare reads an unsigned long: all 64 bits are shown (strace shows an unknown rest in full).
        r.Add("unshare", c => [Xlat.Table("unshare_flags").Flags(c[0])]);
        r.Add("setns", c => [c.Fd(0), c.Flags(1, "namespace_flags")]);
    }

    /// <summary>Bytes of clone_args copied: a page, what the kernel reads at most (larger is E2BIG).</summary>
    private const int ArgsCopied = 4096;
    /// <summary>set_tid elements shown (MAX_PID_NS_LEVEL, the most the kernel accepts), and sizeof(pid_t).</summary>
    private const int SetTidMax = 32, PidSize = 4;

    private static bool Has(ulong flags, string name) => (flags & Flags.ValueOr(name, 0)) != 0;

    /// <summary>CLONE_VM|CLONE_FS|SIGCHLD: the flags, then the exit signal kept in the low byte.</summary>
    internal static string FlagsWithSignal(ulong flags)
    {
        ulong sig = flags & CSignal, rest = flags & ~CSignal;
        if (sig == 0) return Flags.Flags(rest);
        var s = Signals.Format((long)sig);
        return rest == 0 ? s : Flags.Flags(rest) + "|" + s;
    }

    private static string[] Clone(Call c)
    {
        ulong flags = c[0];
        var a = new List<string> { "child_stack=" + c.Ptr(1), "flags=" + FlagsWithSignal(flags) };
        if (Has(flags, "CLONE_PARENT_SETTID") || Has(flags, "CLONE_PIDFD")) a.Add("parent_tid=" + c.Ptr(2));
        if (Has(flags, "CLONE_CHILD_SETTID") || Has(flags, "CLONE_CHILD_CLEARTID")) a.Add("child_tidptr=" + c.Ptr(3));
        if (Has(flags, "CLONE_SETTLS")) a.Add("tls=" + c.Ptr(4));
        return [.. a];
    }

    /// <summary>clone3's flags: clone's, and CLONE_NEWTIME, which clone3 takes in the low byte clone keeps for the exit signal.</summary>
    private static readonly XlatTable Clone3Flags = Xlat.Table("clone3_flags");

    /// <summary>
    /// set_tid: the pid_t array (read by set_tid_size, through the nested copy) when its size is one the kernel takes
    /// (1..32), the address otherwise.
    /// </summary>
    private static string SetTid(Call c, int i, ulong addr, ulong size)
    {
        if (addr == 0 || size == 0 || size > SetTidMax) return Fmt.Ptr(addr);
        var d = c.Nested(i, 0);
        if (d?.Data is null || d.Data.Length < PidSize) return Fmt.Ptr(addr);
        var m = new Mem(d.Data);
        var items = new List<string>();
        for (int k = 0; k < (int)size; k++)
        {
            if (!m.Has(k * PidSize, PidSize))
            {
                items.Add(d.Faulted ? "... /* " + Fmt.Ptr(addr + (ulong)(k * PidSize)) + " */" : "...");
                break;
            }
            items.Add(Fmt.Int(m.U32(k * PidSize)));
        }
        return Fmt.Array(items);
    }

    private static string CloneArgs(Call c, int i)
    {
        if (!c.TryData(i, ArgsVer0, out var d)) return c.Ptr(i);
        var m = new Mem(d);
        ulong U(string f) => m.U64(Args.Off(f));
        bool Present(string f) => m.Has(Args.Off(f), Args.SizeOf(f));
        ulong flags = U("flags");
        var f = new List<string> { "flags=" + Clone3Flags.Flags(flags) };
        if (Has(flags, "CLONE_PIDFD")) f.Add("pidfd=" + Fmt.Ptr(U("pidfd")));
        if (Has(flags, "CLONE_CHILD_SETTID") || Has(flags, "CLONE_CHILD_CLEARTID")) f.Add("child_tid=" + Fmt.Ptr(U("child_tid")));
        if (Has(flags, "CLONE_PARENT_SETTID")) f.Add("parent_tid=" + Fmt.Ptr(U("parent_tid")));
        // exit_signal is a u64: a signal (by name) below INT_MAX, the unsigned number above, as strace shows it.
        ulong sig = U("exit_signal");
        f.Add("exit_signal=" + (sig < int.MaxValue ? Signals.Format((long)sig) : Fmt.UDec(sig)));
        f.Add("stack=" + Fmt.Ptr(U("stack")));
        f.Add("stack_size=" + Fmt.Hex(U("stack_size")));
        if (Has(flags, "CLONE_SETTLS")) f.Add("tls=" + Fmt.Ptr(U("tls")));
        if (Present("set_tid_size") && (U("set_tid") != 0 || U("set_tid_size") != 0))
        {
            f.Add("set_tid=" + SetTid(c, i, U("set_tid"), U("set_tid_size")));
            f.Add("set_tid_size=" + Fmt.UDec(U("set_tid_size")));
        }
        if (Present("cgroup") && (U("cgroup") != 0 || Has(flags, "CLONE_INTO_CGROUP"))) f.Add("cgroup=" + Fmt.UDec(U("cgroup")));
        f.AddRange(c.StructTail(i, Args.Size));
        return Fmt.Struct(f);
    }
}
