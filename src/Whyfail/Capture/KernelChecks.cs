using Whyfail.Capture.Native;

namespace Whyfail.Capture;

/// <summary>Preconditions for BPF tracing, each failing with one sentence that says what to do.</summary>
public static class KernelChecks
{
    public const string BtfPath = "/sys/kernel/btf/vmlinux";
    private static nint _btf;
    private static readonly Lock BtfLock = new();

    /// <summary>Capability bits from /proc/self/status CapEff.</summary>
    public static ulong EffectiveCapabilities()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("CapEff:"))
                return Convert.ToUInt64(line[7..].Trim(), 16);
        return 0;
    }

    public const int CAP_SYS_ADMIN = Libc.CAP_SYS_ADMIN, CAP_PERFMON = Libc.CAP_PERFMON, CAP_BPF = Libc.CAP_BPF;

    public static bool HasCap(ulong caps, int cap) => (caps & (1UL << cap)) != 0;

    /// <summary>Throws unless this process may load tracing BPF programs and the kernel has BTF.</summary>
    public static void RequireBpf()
    {
        ulong caps = EffectiveCapabilities();
        bool ok = HasCap(caps, CAP_SYS_ADMIN) || (HasCap(caps, CAP_BPF) && HasCap(caps, CAP_PERFMON));
        if (!ok)
            throw new WhyfailException(
                "whyfail needs to load BPF tracing programs, which requires root (or CAP_BPF and CAP_PERFMON): run it with sudo",
                ExitCodes.NoPermission);
        if (!File.Exists(BtfPath))
            throw new WhyfailException(
                $"this kernel has no BTF type information ({BtfPath} is missing): whyfail needs a kernel built with CONFIG_DEBUG_INFO_BTF=y (the default on current Debian, Ubuntu, Fedora and RHEL kernels)",
                ExitCodes.KernelUnsupported);
    }

    /// <summary>The running kernel's BTF (libbpf handle, loaded once), or 0.</summary>
    internal static nint VmlinuxBtf() => Btf();

    private static nint Btf()
    {
        lock (BtfLock)
        {
            if (_btf == 0)
                _btf = Libbpf.BtfLoadVmlinux();
            return _btf;
        }
    }

    private static readonly string[] TracefsEvents = Tracefs.InEachRoot("events").ToArray();

    /// <summary>
    /// Whether the running kernel has a BTF-enabled tracepoint of this name (tp_btf can attach to it).
    /// tracefs answers when mounted (events/SUBSYSTEM/NAME); else the kernel's BTF does
    /// (btf_trace_NAME), which costs parsing all of it (~5 MB, tens of ms of start-up).
    /// </summary>
    public static bool HasTracepoint(string name)
    {
        // Asked several times per start (loading, attaching, the capability source, io_uring): the answer is kept.
        lock (Tracepoints)
            if (Tracepoints.TryGetValue(name, out bool known)) return known;
        bool has = FindTracepoint(name);
        lock (Tracepoints) Tracepoints[name] = has;
        return has;
    }

    private static readonly Dictionary<string, bool> Tracepoints = new(StringComparer.Ordinal);

    /// <summary>
    /// The subsystem (events/SUBSYSTEM/NAME) of the tracepoints whyfail asks about: their TRACE_SYSTEM, fixed in the kernel's
    /// headers since each was added. One lookup answers, also "no": kernels before 6.14 have no capability:cap_capable, and
    /// searching every subsystem for it was ~110 stat calls of fresh eventfs dentries at every start (~1-2 ms of a host's
    /// start-up, bench/README "Start-up, session 15"; 0.1-0.2 s in the lab's emulated CPU, "Before the load, session 17").
    /// Other names are still searched for in every subsystem.
    /// </summary>
    private static string? KnownSubsystem(string name) => name switch
    {
        "sys_enter" or "sys_exit" => "raw_syscalls",
        "cap_capable" => "capability",
        "signal_generate" or "signal_deliver" => "signal",
        "sched_process_fork" or "sched_process_exec" or "sched_process_exit" => "sched",
        _ when name.StartsWith("io_uring_", StringComparison.Ordinal) => "io_uring",
        _ => null,
    };

    private static bool FindTracepoint(string name)
    {
        foreach (var events in TracefsEvents)
        {
            try
            {
                if (!Directory.Exists(events)) continue;
                if (KnownSubsystem(name) is { } known && Directory.Exists(Path.Combine(events, "raw_syscalls")))
                    return Directory.Exists(Path.Combine(events, known, name));
                var subsystems = Directory.GetDirectories(events);
                if (subsystems.Length > 0)
                    return subsystems.Any(sub => Directory.Exists(Path.Combine(sub, name)));
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return BtfIdCache.Id("btf_trace_" + name, Libbpf.BTF_KIND_TYPEDEF) > 0;
    }

    /// <summary>Whether the running kernel's BTF has a struct of this name (a feature marker, e.g. bpf_kprobe_multi_link).</summary>
    public static bool HasStruct(string name)
    {
        return BtfIdCache.Id(name, Libbpf.BTF_KIND_STRUCT) > 0;
    }

    /// <summary>Whether the running kernel's BTF knows a function of this name.</summary>
    public static bool HasFunction(string name)
    {
        return BtfIdCache.FunctionId(name) > 0;
    }

    /// <summary>Number of possible CPUs (per-CPU map values have one slot each).</summary>
    public static int PossibleCpus()
    {
        string? list = null;
        try
        {
            list = File.ReadAllText("/sys/devices/system/cpu/possible"); // e.g. "0-1" or "0-3,5"
        }
        catch (IOException)
        {
        }
        return CpuList.Count(list) ?? Environment.ProcessorCount;
    }
}
