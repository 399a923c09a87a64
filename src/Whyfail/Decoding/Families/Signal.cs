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
        r.Add("pidfd_send_signal", c => [c.Fd(0), Signals.Format(c.Int(1)), c.Ptr(2), c.Hex32(3)]);
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
