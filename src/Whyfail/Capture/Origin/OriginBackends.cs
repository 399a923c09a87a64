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
        return list;
    }

    private static string? _fexitProbe;

    /// <summary>
    /// Loads (and unloads) the smallest fexit program, on do_sys_openat2, to learn whether the
    /// kernel allows BPF trampolines. Null when it does; the reason otherwise.
    /// </summary>
    public static unsafe string? ProbeFexit()
    {
        if (_fexitProbe != null) return _fexitProbe.Length == 0 ? null : _fexitProbe;
        int id = BtfIdCache.FunctionId("do_sys_openat2"); // without parsing the kernel's BTF again on later runs
        if (id <= 0)
        {
            _fexitProbe = "no BTF for do_sys_openat2";
            return _fexitProbe;
        }
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
            _fexitProbe = "";
            return null;
        }
        int err = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
        LibbpfLog.Take();
        _fexitProbe = $"{(err == 1 ? "EPERM" : "errno " + err)}: {Native.Libc.ErrorText(err)}";
        return _fexitProbe;
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
