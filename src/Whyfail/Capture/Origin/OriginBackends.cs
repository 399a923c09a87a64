namespace Whyfail.Capture.Origin;

/// <summary>Which origin backends this kernel may allow, best first, and why the others are out.</summary>
public static class OriginBackends
{
    public const string KprobePmu = "/sys/bus/event_source/devices/kprobe/type";

    /// <summary>
    /// Candidates in order of cost: kprobe.multi attaches hundreds of return probes in one link
    /// (~0.3 ms each to attach and detach, measured on Debian 6.12); fexit needs a program and a
    /// link per function (~17 ms to attach, ~150 ms to close each); single kretprobes come last.
    /// The kernel has the final word: each candidate is tried until one loads.
    /// </summary>
    public static IReadOnlyList<OriginBackend> Candidates(out string? whyNone)
    {
        // Asked twice per run (planning, then the capture): the kernel is probed once.
        if (_candidates is { } known)
        {
            whyNone = _whyNone;
            return known;
        }
        var list = new List<OriginBackend>();
        bool kprobes = File.Exists(KprobePmu);
        if (kprobes && KernelChecks.HasStruct("bpf_kprobe_multi_link"))
            list.Add(OriginBackend.KretprobeMulti);
        string? fexitRefused = ProbeFexit();
        if (fexitRefused == null)
            list.Add(OriginBackend.Fexit);
        if (kprobes)
            list.Add(OriginBackend.Kretprobe);
        whyNone = null;
        if (list.Count == 0)
        {
            string? lockdown = SecurityFs.LockdownMode();
            whyNone = $"this kernel has no kprobes ({KprobePmu} is missing) and refuses fexit programs ({fexitRefused})" +
                (lockdown == "confidentiality" ? "; it runs with lockdown=confidentiality, which forbids both" : "");
        }
        (_candidates, _whyNone) = (list, whyNone);
        return list;
    }

    private static IReadOnlyList<OriginBackend>? _candidates;
    private static string? _whyNone;
    private static string? _fexitProbe;

    /// <summary>Forgets what this process learnt (the candidates, the fexit probe): the next question asks again (tests).</summary>
    internal static void Forget() => (_candidates, _whyNone, _fexitProbe) = (null, null, null);

    /// <summary>
    /// Whether the fexit probe may be answered from this boot's cache (<see cref="BtfIdCache"/>); `whyfail doctor` asks
    /// the kernel itself.
    /// </summary>
    public static bool UseBootCache { get; set; } = true;

    /// <summary>
    /// The key of an allowed fexit probe in this boot's cache: what can change the kernel's answer within a boot is in
    /// it (lockdown can be raised, whyfail may run with fewer capabilities). Only an allowed probe is remembered: a
    /// stale "allowed" is caught by the real load (which then falls back to the next backend and says so), while a
    /// stale "refused" would lose the backend without a word.
    /// </summary>
    internal static string FexitCacheKey() =>
        $"probe:fexit:lockdown={SecurityFs.LockdownMode() ?? "-"}:cap={KernelChecks.EffectiveCapabilities():x}";

    /// <summary>
    /// Loads (and unloads) the smallest fexit program, on do_sys_openat2, to learn whether the
    /// kernel allows BPF trampolines. Null when it does; the reason otherwise.
    /// </summary>
    public static string? ProbeFexit()
    {
        _fexitProbe ??= (UseBootCache ? ProbeFexitCached() : ProbeFexitNow()) ?? "";
        return _fexitProbe.Length == 0 ? null : _fexitProbe;
    }

    /// <summary>The probe through this boot's cache: an allowed probe remembered is not asked again (see <see cref="FexitCacheKey"/>).</summary>
    internal static string? ProbeFexitCached()
    {
        string key = FexitCacheKey();
        if (BtfIdCache.Fact(key) == 1) return null;
        string? refused = ProbeFexitNow();
        if (refused == null) BtfIdCache.RememberFact(key, 1);
        StartupTimes.Mark("fexit probed");
        return refused;
    }

    /// <summary>The probe itself, asked of the kernel every time (no cache): null when it allows fexit, the reason otherwise.</summary>
    internal static unsafe string? ProbeFexitNow()
    {
        int id = BtfIdCache.FunctionId("do_sys_openat2"); // without parsing the kernel's BTF again on later runs
        if (id <= 0)
            return "no BTF for do_sys_openat2";
        // r0 = 0; exit
        ulong* insns = stackalloc ulong[2] { 0x00000000000000b7UL, 0x0000000000000095UL };
        var opts = new Native.Libbpf.ProgLoadOpts
        {
            Sz = (nuint)sizeof(Native.Libbpf.ProgLoadOpts),
            ExpectedAttachType = Native.Libbpf.BPF_TRACE_FEXIT,
            AttachBtfId = (uint)id,
        };
        int fd = Native.Libbpf.ProgLoad(Native.Libbpf.BPF_PROG_TYPE_TRACING, "wf_probe", "GPL", (nint)insns, 2, &opts);
        if (fd >= 0)
        {
            Native.Libc.Close(fd);
            return null;
        }
        int err = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
        LibbpfLog.Take();
        return $"{(err == 1 ? "EPERM" : "errno " + err)}: {Native.Libc.ErrorText(err)}";
    }

    public static string Describe(OriginBackend b) => b switch
    {
        OriginBackend.KretprobeMulti => "kretprobe.multi",
        OriginBackend.Fexit => "fexit",
        OriginBackend.Kretprobe => "kretprobe",
        _ => "none",
    };

    public static bool TryParse(string s, out OriginBackend b)
    {
        b = s switch
        {
            "kretprobe.multi" or "kprobe.multi" or "multi" => OriginBackend.KretprobeMulti,
            "fexit" => OriginBackend.Fexit,
            "kretprobe" or "kprobe" => OriginBackend.Kretprobe,
            "none" => OriginBackend.None,
            _ => (OriginBackend)(-1),
        };
        return (int)b >= 0;
    }
}
