namespace Whyfail.Decoding;

/// <summary>prctl: the option, and its arguments as that option reads them.</summary>
internal static class PrctlFamily
{
    private static readonly XlatTable Options = Xlat.Table("prctl_options");
    /// <summary>TASK_COMM_LEN: PR_SET_NAME copies at most this much.</summary>
    private const int CommLen = 16;

    public static void Register(Registry r)
    {
        // arg2 is a string only for PR_SET_NAME; for the other options reading it fails harmlessly.
        // ANON_VMA_NAME_MAX_LEN (80): PR_SET_VMA_ANON_NAME's name, arg5.
        r.Add("prctl", Decode, s => s.Str(1, CommLen).Str(4, 80));
    }

    private static string[] Decode(Call c)
    {
        var name = Options.Lookup(c.UInt(0));
        var opt = name ?? Options.Value32(c.UInt(0), "PR_???");
        string A(int i) => c.UDec(i);
        return name switch
        {
            "PR_GET_DUMPABLE" or "PR_GET_KEEPCAPS" or "PR_GET_TIMING" or "PR_GET_SECCOMP" or "PR_GET_SECUREBITS"
                or "PR_GET_TIMERSLACK" or "PR_TASK_PERF_EVENTS_DISABLE" or "PR_TASK_PERF_EVENTS_ENABLE"
                or "PR_GET_SPECULATION_CTRL" or "PR_GET_IO_FLUSHER" => [opt],
            "PR_GET_PDEATHSIG" or "PR_GET_UNALIGN" or "PR_GET_FPEMU" or "PR_GET_FPEXC" or "PR_GET_ENDIAN"
                or "PR_GET_TSC" or "PR_GET_NAME" or "PR_GET_TID_ADDRESS" or "PR_GET_CHILD_SUBREAPER" => [opt, c.Ptr(1)],
            // A value past the signal numbers is shown as the unsigned long the kernel reads, as strace does.
            "PR_SET_PDEATHSIG" => [opt, c[1] > 128 ? c.UDec(1) : Signals.Format(c.Long(1))],
            "PR_SET_UNALIGN" => [opt, Xlat.Table("pr_unalign_flags").Flags(c[1])],
            "PR_SET_TSC" => [opt, Xlat.Table("pr_tsc").Value(c[1], "PR_TSC_???")],
            "PR_SET_SECUREBITS" => [opt, Xlat.Table("secbits").Flags(c[1])],
            "PR_SET_VMA" => SetVma(c, opt),
            "PR_SET_NAME" => [opt, c.Str(1)],
            "PR_SET_DUMPABLE" => [opt, Xlat.Table("suid_dump").Value(c[1], "SUID_DUMP_???")],
            "PR_SET_KEEPCAPS" or "PR_SET_TIMING" or "PR_SET_FPEMU"
                or "PR_SET_FPEXC" or "PR_SET_ENDIAN" or "PR_SET_TIMERSLACK"
                or "PR_SET_CHILD_SUBREAPER" or "PR_SET_FP_MODE" => [opt, A(1)],
            "PR_SET_PTRACER" => [opt, c.LDec(1)],
            "PR_SET_NO_NEW_PRIVS" or "PR_GET_NO_NEW_PRIVS" or "PR_SET_THP_DISABLE" or "PR_GET_THP_DISABLE"
                or "PR_SET_IO_FLUSHER" => [opt, A(1), A(2), A(3), A(4)],
            "PR_CAPBSET_READ" or "PR_CAPBSET_DROP" => [opt, Capabilities.Format(c.Long(1))],
            "PR_CAP_AMBIENT" => CapAmbient(c, opt),
            "PR_SET_SECCOMP" => SetSeccomp(c, opt),
            "PR_SET_MM" => [opt, Xlat.Table("prctl_mm").Value(c[1], "PR_SET_MM_???"), c.Hex(2), A(3), A(4)],
            "PR_MCE_KILL" => MceKill(c, opt),
            _ => [opt, c.Hex(1), c.Hex(2), c.Hex(3), c.Hex(4)],
        };
    }

    /// <summary>PR_MCE_KILL: PR_MCE_KILL_SET takes a policy; the other arguments as numbers.</summary>
    private static string[] MceKill(Call c, string opt)
    {
        var sub = Xlat.Table("pr_mce_kill");
        bool set = sub.Lookup(c[1]) == "PR_MCE_KILL_SET";
        string policy = set ? Xlat.Table("pr_mce_kill_policy").Value(c[2], "PR_MCE_KILL_???") : c.UDec(2);
        return [opt, sub.Value(c[1], "PR_MCE_KILL_???"), policy, c.UDec(3), c.UDec(4)];
    }

    /// <summary>PR_SET_VMA, PR_SET_VMA_ANON_NAME: the range and the name (NULL clears it).</summary>
    private static string[] SetVma(Call c, string opt)
    {
        var sub = Xlat.Table("pr_set_vma");
        if (sub.Lookup(c[1]) is null) return [opt, sub.Value(c[1], "PR_SET_VMA_???"), c.Hex(2), c.Hex(3), c.Hex(4)];
        return [opt, sub.Value(c[1]), c.Ptr(2), c.UDec(3), c.Str(4)];
    }

    private static string[] CapAmbient(Call c, string opt)
    {
        var sub = Xlat.Table("prctl_cap_ambient");
        var subName = sub.Lookup(c[1]);
        string cap = subName is "PR_CAP_AMBIENT_CLEAR_ALL" ? c.UDec(2) : Capabilities.Format(c.Long(2));
        return [opt, subName ?? sub.Value(c[1], "PR_CAP_AMBIENT_???"), cap, c.UDec(3), c.UDec(4)];
    }

    private static string[] SetSeccomp(Call c, string opt)
    {
        var modes = Xlat.Table("seccomp_modes");
        var mode = modes.Value(c[1], "SECCOMP_MODE_???");
        return mode == "SECCOMP_MODE_FILTER" ? [opt, mode, c.Ptr(2)] : [opt, mode];
    }
}
