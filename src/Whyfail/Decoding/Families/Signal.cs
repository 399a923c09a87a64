namespace Whyfail.Decoding;

/// <summary>
/// Sending signals (kill, tkill, tgkill, rt_*sigqueueinfo, pidfd_send_signal) and handling them
/// (rt_sigaction, rt_sigprocmask, rt_sigsuspend, rt_sigtimedwait, rt_sigpending, sigaltstack, signalfd).
/// </summary>
internal static class SignalFamily
{
    private static readonly StructLayout Act = Xlat.Struct("kernel_sigaction");
    private static readonly StructLayout Stack = Xlat.Struct("stack_t");
    private static readonly XlatTable SaFlags = Xlat.Table("sa_flags");
    private static readonly XlatTable Handlers = Xlat.Table("sig_handlers");
    /// <summary>The kernel's sigset_t on x86_64: 64 signals, 8 bytes.</summary>
    internal const int SigsetSize = 8;

    public static void Register(Registry r)
    {
        r.Add("kill tkill", c => [c.Dec(0), Signals.Format(c.Int(1))]);
        r.Add("tgkill", c => [c.Dec(0), c.Dec(1), Signals.Format(c.Int(2))]);
        r.Add("rt_sigqueueinfo", c => [c.Dec(0), Signals.Format(c.Int(1)), c.Ptr(2)]);
        r.Add("rt_tgsigqueueinfo", c => [c.Dec(0), c.Dec(1), Signals.Format(c.Int(2)), c.Ptr(3)]);
        r.Add("pidfd_send_signal", c => [c.Fd(0), Signals.Format(c.Int(1)), Siginfo(c, 2), c.Hex32(3)],
              s => s.Fixed(2, Si.Size));
        r.Add("rt_sigaction", c => [Signals.Format(c.Int(0)), Sigaction(c, 1), c.Ptr(2), c.UDec(3)],
              s => s.Fixed(1, Act.Size));
        r.Add("rt_sigprocmask", c => [c.Enum(0, "sigprocmask_how", "SIG_???"), Sigset(c, 1, 3), c.Ptr(2), c.UDec(3)],
              s => s.Fixed(1, SigsetSize));
        r.Add("rt_sigsuspend", c => [Sigset(c, 0, 1), c.UDec(1)], s => s.Fixed(0, SigsetSize));
        r.Add("rt_sigtimedwait", c => [Sigset(c, 0, 3), c.Ptr(1), TimeFamily.Timespec(c, 2), c.UDec(3)],
              s => s.Fixed(0, SigsetSize).Fixed(2, TimeFamily.TimespecSize));
        r.Add("rt_sigpending", c => [c.Ptr(0), c.UDec(1)]);
        r.Add("sigaltstack", c => [StackArg(c, 0), c.Ptr(1)], s => s.Fixed(0, Stack.Size));
        r.Add("signalfd", c => [c.Fd(0), Sigset(c, 1, 2), c.UDec(2)], s => s.Fixed(1, SigsetSize));
        r.Add("signalfd4", c => [c.Fd(0), Sigset(c, 1, 2), c.UDec(2), c.Flags(3, "signalfd_flags")],
              s => s.Fixed(1, SigsetSize));
    }

    /// <summary>A sigset_t argument whose size is in argument <paramref name="sizeArg"/>: [INT TERM].</summary>
    internal static string Sigset(Call c, int i, int sizeArg)
    {
        if (c[i] == 0) return "NULL";
        if (c[sizeArg] != SigsetSize || !c.TryData(i, SigsetSize, out var d)) return c.Ptr(i);
        return Signals.FormatSet(d.AsSpan(0, SigsetSize));
    }

    private static readonly StructLayout Si = Xlat.Struct("siginfo");
    /// <summary>Bytes of a siginfo_t copied (the whole kernel structure).</summary>
    internal static int SiginfoSize => Si.Size;

    /// <summary>
    /// A siginfo_t as the program passed it: {si_signo=SIGUSR1, si_code=SI_QUEUE, si_pid=42, si_uid=0, si_int=1, si_ptr=…}.
    /// Which union member applies follows the code: the codes any sender may use (SI_*, zero or negative) carry the
    /// sender (and SI_QUEUE, SI_MESGQ, SI_ASYNCIO its value; SI_TIMER the timer; SI_SIGIO band and fd); a kernel code
    /// (positive) the signal's own fields (the faulting address, the child's status, the system call …).
    /// </summary>
    internal static string Siginfo(Call c, int i)
    {
        if (c[i] == 0) return "NULL";
        if (!c.TryData(i, Si.End("si_code"), out var d)) return c.Ptr(i);
        return Siginfo(new Mem(d));
    }

    internal static string Siginfo(Mem m)
    {
        int signo = m.I32(Si.Off("si_signo")), code = m.I32(Si.Off("si_code"));
        uint errno = m.U32(Si.Off("si_errno"));
        string? sigName = Signals.Name(signo);
        var f = new List<string> { "si_signo=" + Signals.Format(signo), "si_code=" + SiCode(sigName, code) };
        if (errno != 0)
            f.Add("si_errno=" + ((int)errno is > 0 and < 4096 && Errno.Name((int)errno) is { } en ? en : Fmt.UInt(errno)));
        string Ptr(string field) => field + "=" + Fmt.Ptr(m.U64(Si.Off(field)));
        string Int(string field) => field + "=" + Fmt.Int(m.U32(Si.Off(field)));
        void Sender() { f.Add(Int("si_pid")); f.Add("si_uid=" + Fmt.Id(m.U32(Si.Off("si_uid")))); }
        void Value() { f.Add(Int("si_int")); f.Add(Ptr("si_ptr")); }
        void Poll() { f.Add("si_band=" + Fmt.Dec(m.I64(Si.Off("si_band")))); f.Add(Int("si_fd")); }
        if (code <= 0 || code == (int)Xlat.Table("si_codes")["SI_KERNEL"])
        {
            switch (Xlat.Table("si_codes").Lookup((ulong)(long)code))
            {
                case "SI_KERNEL": break;
                case "SI_QUEUE" or "SI_MESGQ" or "SI_ASYNCIO": Sender(); Value(); break;
                case "SI_TIMER":
                    f.Add("si_timerid=" + Fmt.Hex(m.U32(Si.Off("si_tid"))));
                    f.Add(Int("si_overrun"));
                    Value();
                    break;
                case "SI_SIGIO": Poll(); break;
                default: Sender(); break;
            }
            return Fmt.Struct(f);
        }
        switch (sigName)
        {
            case "SIGILL" or "SIGFPE" or "SIGTRAP": f.Add(Ptr("si_addr")); break;
            case "SIGBUS":
                f.Add(Ptr("si_addr"));
                if (Xlat.Table("sigbus_codes").Lookup((ulong)code) is "BUS_MCEERR_AR" or "BUS_MCEERR_AO")
                    f.Add("si_addr_lsb=" + Fmt.Hex(m.U16(Si.Off("si_addr_lsb"))));
                break;
            case "SIGSEGV":
                f.Add(Ptr("si_addr"));
                switch (Xlat.Table("sigsegv_codes").Lookup((ulong)code))
                {
                    case "SEGV_BNDERR": f.Add(Ptr("si_lower")); f.Add(Ptr("si_upper")); break;
                    case "SEGV_PKUERR": f.Add("si_pkey=" + Fmt.UInt(m.U32(Si.Off("si_pkey")))); break;
                }
                break;
            case "SIGCHLD":
                Sender();
                int status = m.I32(Si.Off("si_status"));
                f.Add("si_status=" + (Xlat.Table("sigchld_codes").Lookup((ulong)code) is "CLD_EXITED" or null
                    ? Fmt.Dec(status) : Signals.Format(status)));
                f.Add("si_utime=" + Fmt.Dec(m.I64(Si.Off("si_utime"))));
                f.Add("si_stime=" + Fmt.Dec(m.I64(Si.Off("si_stime"))));
                break;
            case "SIGIO": Poll(); break;
            case "SIGSYS":
                f.Add(Ptr("si_call_addr"));
                uint nr = m.U32(Si.Off("si_syscall")), arch = m.U32(Si.Off("si_arch"));
                var audit = Xlat.Table("audit_arch");
                f.Add("si_syscall=" + (audit.Lookup(arch) == "AUDIT_ARCH_X86_64" && SyscallTable.Name((int)nr) is { } sn
                    ? "__NR_" + sn : Fmt.UInt(nr)));
                f.Add("si_arch=" + audit.Value32(arch, "AUDIT_ARCH_???"));
                break;
        }
        return Fmt.Struct(f);
    }

    /// <summary>si_code: SI_QUEUE, the signal's own code (SEGV_MAPERR, CLD_EXITED …), or hex.</summary>
    private static string SiCode(string? sig, int code)
    {
        string? table = sig switch
        {
            "SIGILL" => "sigill_codes", "SIGFPE" => "sigfpe_codes", "SIGSEGV" => "sigsegv_codes", "SIGBUS" => "sigbus_codes",
            "SIGTRAP" => "sigtrap_codes", "SIGCHLD" => "sigchld_codes", "SIGIO" => "sigpoll_codes", "SIGSYS" => "sigsys_codes",
            _ => null,
        };
        if (code > 0 && table != null && Xlat.Table(table).Lookup((ulong)code) is { } own) return own;
        return Xlat.Table("si_codes").Lookup((ulong)(long)code) ?? Fmt.Hex((uint)code);
    }

    /// <summary>{sa_handler=SIG_IGN, sa_mask=[], sa_flags=SA_RESTORER|SA_RESTART, sa_restorer=0x7f...}</summary>
    private static string Sigaction(Call c, int i)
    {
        if (c[i] == 0) return "NULL";
        if (!c.TryData(i, Act.Size, out var d)) return c.Ptr(i);
        var m = new Mem(d);
        ulong handler = m.U64(Act.Off("sa_handler"));
        ulong flags = m.U64(Act.Off("sa_flags"));
        var f = new List<string>
        {
            "sa_handler=" + (Handlers.Lookup(handler) ?? Fmt.Ptr(handler)),
            "sa_mask=" + Signals.FormatSet(m.Slice(Act.Off("sa_mask"), Act.SizeOf("sa_mask"))),
            "sa_flags=" + SaFlags.Flags(flags),
        };
        if ((flags & SaFlags["SA_RESTORER"]) != 0)
            f.Add("sa_restorer=" + Fmt.Ptr(m.U64(Act.Off("sa_restorer"))));
        return Fmt.Struct(f);
    }

    /// <summary>{ss_sp=0x..., ss_flags=SS_ONSTACK, ss_size=8192}</summary>
    private static string StackArg(Call c, int i)
    {
        if (c[i] == 0) return "NULL";
        if (!c.TryData(i, Stack.Size, out var d)) return c.Ptr(i);
        var m = new Mem(d);
        return Fmt.Struct([
            "ss_sp=" + Fmt.Ptr(m.U64(Stack.Off("ss_sp"))),
            "ss_flags=" + Xlat.Table("sigaltstack_flags").Flags(m.U32(Stack.Off("ss_flags"))),
            "ss_size=" + Fmt.UDec(m.U64(Stack.Off("ss_size"))),
        ]);
    }
}
