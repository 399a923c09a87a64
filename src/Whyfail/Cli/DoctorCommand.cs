using System.CommandLine;
using Whyfail.Capture;

namespace Whyfail.Cli;

/// <summary>`whyfail doctor`: what this kernel and machine let whyfail see, and what each missing piece costs.</summary>
public static class DoctorCommand
{
    public sealed record Check(string Name, bool? Ok, string Detail, string? Unlocks = null);

    public static Command Build()
    {
        var json = new Option<bool>("--json") { Description = "One JSON object instead of a table" };
        var cmd = new Command("doctor", "Report what this kernel allows (BTF, tracepoints, fexit, kprobes, function_graph, lockdown …) and how to get what is missing");
        cmd.Options.Add(json);
        cmd.SetAction(pr => WhyfailCli.Guard(() =>
        {
            var checks = Run();
            if (pr.GetValue(json))
            {
                using var w = new System.Text.Json.Utf8JsonWriter(Console.OpenStandardOutput());
                w.WriteStartObject();
                foreach (var c in checks)
                {
                    w.WriteStartObject(c.Name);
                    if (c.Ok is bool b) w.WriteBoolean("ok", b); else w.WriteNull("ok");
                    w.WriteString("detail", c.Detail);
                    if (c.Unlocks != null) w.WriteString("unlocks", c.Unlocks);
                    w.WriteEndObject();
                }
                w.WriteEndObject();
                w.Flush();
                Console.WriteLine();
            }
            else
            {
                Console.WriteLine($"kernel {File.ReadAllText("/proc/sys/kernel/osrelease").Trim()}");
                foreach (var c in checks)
                {
                    string mark = c.Ok switch { true => "yes", false => "no ", null => " ? " };
                    Console.WriteLine($"  {mark}  {c.Name,-18} {c.Detail}");
                    if (c.Ok != true && c.Unlocks != null)
                        Console.WriteLine($"       {"",-18} → {c.Unlocks}");
                }
            }
            return 0;
        }));
        return cmd;
    }

    /// <summary>`whyfail probe`: kprobes for the entry, return and line probes; the debug vmlinux for --lines.</summary>
    private static Check ProbeCheck(bool debugInfo)
    {
        string? why = Capture.Probe.ProbeCapture.Unavailable();
        return new("whyfail probe", why == null,
            why == null ? $"kprobes on function entries, returns and source lines{(debugInfo ? "; --lines with the debug info above" : "; --lines needs the debug info above")}" : $"refused: {why}",
            "a kernel that allows kprobes (not locked down): whyfail probe FUNCTION tests one hypothesis about a kernel function");
    }

    public static List<Check> Run()
    {
        var list = new List<Check>();
        Capture.Origin.OriginBackends.UseBootCache = false; // the doctor asks the kernel itself, not this boot's cache
        ulong caps = KernelChecks.EffectiveCapabilities();
        bool priv = KernelChecks.HasCap(caps, KernelChecks.CAP_SYS_ADMIN) || (KernelChecks.HasCap(caps, KernelChecks.CAP_BPF) && KernelChecks.HasCap(caps, KernelChecks.CAP_PERFMON));
        list.Add(new("privileges", priv, priv ? "CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN) present" : "missing CAP_BPF/CAP_PERFMON", "run as root (sudo whyfail …)"));
        bool btf = File.Exists(KernelChecks.BtfPath);
        list.Add(new("btf", btf, btf ? KernelChecks.BtfPath : "no kernel BTF", "a kernel with CONFIG_DEBUG_INFO_BTF=y: tracing needs it"));
        if (btf && priv)
        {
            bool tp = KernelChecks.HasTracepoint("sys_exit");
            list.Add(new("tp_btf", tp, tp ? "sys_exit tracepoint (failing calls, arguments)" : "no BTF sys_exit tracepoint"));
            bool cast = BtfIdCache.FunctionId("bpf_rdonly_cast") > 0;
            list.Add(new("bpf_rdonly_cast", cast, cast ? "the sys_exit program reads the task's state without the verifier's BTF name searches (shorter start-up)"
                    : "no such kfunc: the sys_exit program loads through trusted pointers (slower verification at start-up)",
                "Linux 6.2+ (the kfunc bpf_rdonly_cast)"));
            bool cap = KernelChecks.HasTracepoint("cap_capable");
            list.Add(new("cap_capable", cap, cap ? "capability denials as evidence" : "no capability:cap_capable tracepoint (added in Linux 6.14)",
                "Linux 6.14+; meanwhile fexit or kprobes on cap_capable give the same evidence (capability evidence below)"));
            var source = CapabilitySource.Best();
            list.Add(new("capability evidence", source.Kind != CapabilitySourceKind.None,
                source.Kind == CapabilitySourceKind.None ? $"none: {source.Detail}" : $"{source.Name}: {source.Detail}",
                "the capability:cap_capable tracepoint (Linux 6.14+), or a kernel that allows fexit or kprobes (not locked down in confidentiality mode)"));
        }
        using (var audit = Analysis.Evidence.AuditListener.Start(out var noAudit))
            list.Add(new("lsm_audit", audit is not null, audit is not null
                    ? $"LSM denials from the audit log ({(audit.ActiveLsms.Count > 0 ? string.Join(",", audit.ActiveLsms) : "modules unknown")}; Landlock only when audit is enabled)"
                    : noAudit!,
                "CAP_AUDIT_READ and a kernel with CONFIG_AUDIT: AppArmor, SELinux and Landlock denials as evidence"));
        string? lockdown = SecurityFs.LockdownMode();
        // Only confidentiality mode forbids what whyfail uses (kprobes, /proc/kcore, bpf_probe_read_kernel,
        // tracefs); integrity mode forbids writing user or kernel memory, which whyfail never does.
        list.Add(new("lockdown", lockdown is null ? null : lockdown != "confidentiality",
            lockdown switch
            {
                null => "unknown (securityfs not mounted: mount -t securityfs securityfs /sys/kernel/security)",
                "integrity" => "integrity (forbids nothing whyfail uses; confidentiality would forbid kprobes and kernel reads)",
                _ => lockdown,
            },
            "boot without lockdown=confidentiality (lockdown=integrity at most): confidentiality mode forbids kprobes, fentry/fexit and kernel memory reads, which kernel origins need"));
        string tracing = Tracefs.Root;
        bool tracefs = File.Exists(Path.Combine(tracing, "available_events")) || Directory.Exists(Path.Combine(tracing, "events"));
        list.Add(new("tracefs", tracefs, tracefs ? $"mounted at {tracing}" : "not mounted", Tracefs.MountHint));
        if (tracefs)
        {
            var tracers = TryRead(Path.Combine(tracing, "available_tracers")) ?? "";
            bool fg = tracers.Split(' ', StringSplitOptions.TrimEntries).Contains("function_graph");
            list.Add(new("function_graph", fg, fg ? "available" : "not in available_tracers", "a kernel with CONFIG_FUNCTION_GRAPH_TRACER (failure call graphs)"));
            bool retval = (TryRead(Path.Combine(tracing, "trace_options")) ?? "").Contains("funcgraph-retval");
            list.Add(new("funcgraph-retval", retval, retval ? "return values in function_graph" : "not available", "CONFIG_FUNCTION_GRAPH_RETVAL=y (Linux 6.5+)"));
            var funcs = TryRead(Path.Combine(tracing, "available_filter_functions"));
            list.Add(new("traceable functions", funcs != null, funcs != null ? $"{funcs.Count(c => c == '\n')} functions" : "available_filter_functions unreadable", "needed to choose which kernel functions to attach for origins"));
        }
        // Origin backends (where in the kernel an error is born).
        bool kprobePmu = File.Exists(Capture.Origin.OriginBackends.KprobePmu);
        list.Add(new("kprobes", kprobePmu, kprobePmu ? "perf kprobe PMU present (kretprobe origin backend)" : "no kprobe PMU (CONFIG_KPROBES off, or hidden)",
            "a kernel with CONFIG_KPROBES=y (standard on Debian, Ubuntu, Fedora, RHEL)"));
        if (priv && btf)
        {
            bool multi = kprobePmu && KernelChecks.HasStruct("bpf_kprobe_multi_link");
            list.Add(new("kprobe.multi", multi, multi ? "many return probes in one link: fastest origin backend" : "not available (needs CONFIG_FPROBE, Linux 5.18+)",
                "Linux 5.18+ with CONFIG_FPROBE: attaching and detaching hundreds of probes takes milliseconds instead of seconds"));
            string? fexit = Capture.Origin.OriginBackends.ProbeFexit();
            list.Add(new("fexit", fexit == null, fexit == null ? "BPF trampolines allowed" : $"refused: {fexit}",
                lockdown == "confidentiality" ? "a kernel without lockdown=confidentiality (fexit/fentry trampolines)"
                    : "this kernel refuses BPF trampolines for a reason other than lockdown (built without them, or a security module says no); the kprobe backends do the same job"));
            var candidates = Capture.Origin.OriginBackends.Candidates(out var whyNone);
            list.Add(new("origin backend", candidates.Count > 0, candidates.Count > 0 ? Capture.Origin.OriginBackends.Describe(candidates[0]) : $"none: {whyNone}",
                "any of kprobe.multi, fexit, kprobes"));
        }
        var reapers = LinkReaper.Find();
        list.Add(new("probe teardown", reapers.Count == 0,
            reapers.Count == 0 ? "no probes left by an earlier whyfail are being detached" : string.Join("; ", reapers.Select(LinkReaper.Describe)),
            "wait: a reaper exits when the kernel has released every probe it holds (killing it is safe: the kernel then releases them itself, as slowly)"));
        bool kcore = File.Exists("/proc/kcore") && CanOpen("/proc/kcore");
        string release = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        var vmlinux = new[] { $"/usr/lib/debug/boot/vmlinux-{release}", $"/usr/lib/debug/lib/modules/{release}/vmlinux", $"/boot/vmlinux-{release}" }.FirstOrDefault(File.Exists);
        list.Add(new("kernel text", kcore || vmlinux != null, vmlinux != null ? $"vmlinux {vmlinux}" : kcore ? "/proc/kcore" : "neither /proc/kcore nor a vmlinux is readable",
            "the static call graph that chooses which functions to watch needs the kernel's machine code"));
        var (debugOk, debugDetail, debugUnlocks) = Analysis.Origin.Source.SourceDoctor.DebugInfo(release);
        list.Add(new("debug info", debugOk, debugDetail, debugUnlocks));
        list.Add(ProbeCheck(debugOk));
        bool kallsyms = KallsymsVisible();
        list.Add(new("kallsyms", kallsyms, kallsyms ? "addresses visible" : "addresses hidden (zeros)", "run as root with kernel.kptr_restrict ≤ 1"));
        list.Add(SyscallEntryCheck());
        list.Add(InjectCheck());
        list.Add(DenyCheck(priv && btf));
        return list;
    }

    /// <summary>How many of the syscall table's x86_64 entry functions this kernel has (origins and graph start there).</summary>
    private static Check SyscallEntryCheck()
    {
        try
        {
            var symbols = Analysis.Origin.Kernel.Kallsyms.Load();
            var absent = Analysis.Origin.Kernel.SyscallEntries.Absent(symbols.Contains);
            int all = Analysis.Origin.Kernel.SyscallEntries.WithEntry;
            string detail = $"{all - absent.Count} of {all} syscalls' entry functions present" +
                (absent.Count > 0 ? $"; not in this kernel (newer, removed or configured out: no origins, no graph): {string.Join(" ", absent.Select(a => a.Name))}" : "");
            return new("syscall entries", true, detail);
        }
        catch (Analysis.Origin.Kernel.KernelAnalysisException e)
        {
            return new("syscall entries", null, e.Message, "a readable /proc/kallsyms");
        }
    }

    /// <summary>--inject needs no tracing feature: seccomp filters, and for conditional rules user notification (Linux 5.9+).</summary>
    private static Check InjectCheck()
    {
        bool seccomp = TryRead("/proc/self/status")?.Contains("\nSeccomp:", StringComparison.Ordinal) == true;
        if (!seccomp)
            return new("--inject", false, "no seccomp filters in this kernel (CONFIG_SECCOMP_FILTER)", "a kernel with CONFIG_SECCOMP_FILTER=y (every distribution kernel)");
        var why = Tracing.Inject.Injector.SupervisorUnsupported();
        return new("--inject", why == null, why == null
                ? "works for commands whyfail starts, lockdown or not: a seccomp filter installed before exec (SECCOMP_RET_ERRNO), and user notification answered by whyfail for path=, comm=, when=, retval= (Linux 5.9+)"
                : $"only rules without conditions (SECCOMP_RET_ERRNO); path=, comm=, when= and retval= need {why}",
            "Linux 5.9+ (seccomp user notification with SECCOMP_USER_NOTIF_FLAG_CONTINUE, pidfd_getfd)");
    }

    /// <summary>`whyfail deny` needs BPF LSM: "bpf" among the active security modules, and the kernel accepting the programs.</summary>
    private static Check DenyCheck(bool canLoad)
    {
        const string unlocks = "a kernel with CONFIG_BPF_LSM=y booted with \"bpf\" in lsm=, not refusing BPF LSM programs (whyfail deny)";
        var status = Capture.Deny.BpfLsm.Read();
        if (status.Unavailable is { } why) return new("deny", false, why, unlocks);
        if (!canLoad) return new("deny", null, $"BPF LSM is active ({status.Describe()}); loading its programs needs root", unlocks);
        try
        {
            using var probe = Capture.Deny.DenyEnforcer.Load([new(1, "exec=/nonexistent", Capture.Deny.DenyWhat.Exec, "/nonexistent", 0, 13, Capture.Deny.DenyUsers.Any, [], null)]);
            return new("deny", true, $"BPF LSM programs load ({status.Describe()})", unlocks);
        }
        catch (WhyfailException e)
        {
            return new("deny", false, e.Message.Replace("whyfail deny cannot refuse anything on this kernel: ", ""), unlocks);
        }
    }

    private static bool CanOpen(string path)
    {
        try { using var f = File.OpenRead(path); return true; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    private static string? TryRead(string path)
    {
        try { return File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    private static bool KallsymsVisible()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/kallsyms").Take(64))
                if (!line.StartsWith("0000000000000000")) return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return false;
    }
}
