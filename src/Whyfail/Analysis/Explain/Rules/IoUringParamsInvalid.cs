using System.Buffers.Binary;
using System.Numerics;
using Whyfail.Capture;
using Whyfail.Decoding;
using Whyfail.Events;
using static Whyfail.Analysis.Explain.FieldChecks;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// EINVAL from io_uring_setup: the field of struct io_uring_params (or the entries argument) that the kernel's
/// checks refuse — io_uring_setup (reserved words, flags this kernel does not know), io_uring_create /
/// io_uring_sanitise_params / io_uring_fill_params (ring sizes, flag combinations) and io_sq_offload_create (the
/// polling thread's CPU, the ring to attach to). CPUs and descriptors are read live (/sys, /proc/PID/fd).
/// </summary>
public sealed class IoUringParamsInvalid : IExplainRule
{
    public string Id => "io_uring.invalid_params";

    /// <summary>The checks read the captured struct; those that need the live process stay silent once it is gone.</summary>
    public bool FromEvidence => true;

    private static readonly StructLayout Layout = Xlat.Struct("io_uring_params");

    /// <summary>
    /// Every IORING_SETUP_* flag and the Linux version that introduced it (io_uring_setup rejects the others). The
    /// installed headers know only the older ones, so names and bits are those of the kernel's
    /// include/uapi/linux/io_uring.h; a test checks them against the headers' table.
    /// </summary>
    internal static readonly (string Name, int Bit, Version Since)[] SetupFlags =
    [
        ("IORING_SETUP_IOPOLL", 0, new(5, 1)), ("IORING_SETUP_SQPOLL", 1, new(5, 1)), ("IORING_SETUP_SQ_AFF", 2, new(5, 1)),
        ("IORING_SETUP_CQSIZE", 3, new(5, 5)), ("IORING_SETUP_CLAMP", 4, new(5, 6)), ("IORING_SETUP_ATTACH_WQ", 5, new(5, 6)),
        ("IORING_SETUP_R_DISABLED", 6, new(5, 10)), ("IORING_SETUP_SUBMIT_ALL", 7, new(5, 18)),
        ("IORING_SETUP_COOP_TASKRUN", 8, new(5, 19)), ("IORING_SETUP_TASKRUN_FLAG", 9, new(5, 19)),
        ("IORING_SETUP_SQE128", 10, new(5, 19)), ("IORING_SETUP_CQE32", 11, new(5, 19)),
        ("IORING_SETUP_SINGLE_ISSUER", 12, new(6, 0)), ("IORING_SETUP_DEFER_TASKRUN", 13, new(6, 1)),
        ("IORING_SETUP_NO_MMAP", 14, new(6, 5)), ("IORING_SETUP_REGISTERED_FD_ONLY", 15, new(6, 5)),
        ("IORING_SETUP_NO_SQARRAY", 16, new(6, 6)), ("IORING_SETUP_HYBRID_IOPOLL", 17, new(6, 13)),
        ("IORING_SETUP_CQE_MIXED", 18, new(6, 18)), ("IORING_SETUP_SQE_MIXED", 19, new(6, 19)),
    ];

    private static uint F(string name) => 1u << SetupFlags.First(f => f.Name == name).Bit;
    private static string Short(string name) => name["IORING_SETUP_".Length..];

    // io_uring/io_uring.c: IORING_MAX_ENTRIES and IORING_MAX_CQ_ENTRIES (not in the UAPI headers).
    private const uint MaxEntries = 32768, MaxCqEntries = 2 * MaxEntries;

    /// <summary>
    /// What the capture showed and what this machine said about CPUs and the caller's descriptors. The caller's cpuset and
    /// wq_fd's file are read when a check first asks (only the checks of SQ_AFF and ATTACH_WQ that need them do), so that
    /// a process gone since is noted as such only then.
    /// </summary>
    internal sealed record Params(uint Entries, bool Have, uint Flags, uint CqEntries, uint SqThreadCpu, int WqFd, uint[] Resv,
        Version? Kernel, int? PossibleCpus, string? Online, Lazy<string?> CpusetOfCaller, Lazy<string?> WqFdFile)
    {
        public string? Cpuset => CpusetOfCaller.Value;
        public string? WqFdTarget => WqFdFile.Value;
        public bool Has(string flag) => Have && (Flags & F(flag)) != 0;
        /// <summary>The flag bits this kernel does not know (all bits no kernel defines when its version is unknown).</summary>
        public uint Unknown => Have ? Flags & ~SetupFlags.Where(f => Kernel is null || f.Since <= Kernel).Aggregate(0u, (a, f) => a | 1u << f.Bit) : 0;
        public uint SqEntries => RoundUp(Has("IORING_SETUP_CLAMP") ? Math.Min(Entries, MaxEntries) : Entries);
    }

    internal static uint RoundUp(uint n) => n <= 1 ? 1 : n > 1u << 31 ? 0 : BitOperations.RoundUpToPowerOf2(n);

    private static string Pair(string a, string b) => $"has {a} with {b}";

    internal static readonly FieldCheck<Params>[] Checks =
    [
        // io_uring_setup
        new("resv", p => p.Have && p.Resv.Any(r => r != 0), p => $"= [{string.Join(", ", p.Resv.Select(r => Hex(r)))}] is not all zero, and reserved words must be",
            "zero the whole struct io_uring_params before filling it in"),
        new("flags", p => p.Unknown != 0, p => UnknownFlags(p),
            "remove the flags this kernel does not know, or run a newer kernel", Certain: false),
        // io_uring_sanitise_params (io_uring_create before 6.14)
        new("flags", p => p.Has("IORING_SETUP_REGISTERED_FD_ONLY") && !p.Has("IORING_SETUP_NO_MMAP"),
            p => "has IORING_SETUP_REGISTERED_FD_ONLY without IORING_SETUP_NO_MMAP: rings cannot be mapped without a real descriptor",
            "add IORING_SETUP_NO_MMAP and pass the ring memory, or drop REGISTERED_FD_ONLY"),
        new("flags", p => p.Has("IORING_SETUP_SQPOLL") && Taskrun(p) is not null,
            p => $"{Pair("IORING_SETUP_SQPOLL", Taskrun(p)!)}: task-run notification flags make no sense with a polling thread",
            "drop the TASKRUN flags with SQPOLL"),
        new("flags", p => p.Has("IORING_SETUP_TASKRUN_FLAG") && !p.Has("IORING_SETUP_SQPOLL") && !p.Has("IORING_SETUP_COOP_TASKRUN") && !p.Has("IORING_SETUP_DEFER_TASKRUN"),
            p => "has IORING_SETUP_TASKRUN_FLAG without IORING_SETUP_COOP_TASKRUN or IORING_SETUP_DEFER_TASKRUN",
            "add IORING_SETUP_COOP_TASKRUN"),
        new("flags", p => p.Has("IORING_SETUP_HYBRID_IOPOLL") && !p.Has("IORING_SETUP_IOPOLL"),
            p => "has IORING_SETUP_HYBRID_IOPOLL without IORING_SETUP_IOPOLL", "add IORING_SETUP_IOPOLL"),
        new("flags", p => p.Has("IORING_SETUP_DEFER_TASKRUN") && !p.Has("IORING_SETUP_SINGLE_ISSUER"),
            p => "has IORING_SETUP_DEFER_TASKRUN without IORING_SETUP_SINGLE_ISSUER: deferred completions need a single submitting task",
            "add IORING_SETUP_SINGLE_ISSUER"),
        new("flags", p => p.Has("IORING_SETUP_CQE32") && p.Has("IORING_SETUP_CQE_MIXED"),
            p => Pair("IORING_SETUP_CQE32", "IORING_SETUP_CQE_MIXED"), "keep one of them"),
        new("flags", p => p.Has("IORING_SETUP_SQE128") && p.Has("IORING_SETUP_SQE_MIXED"),
            p => Pair("IORING_SETUP_SQE128", "IORING_SETUP_SQE_MIXED"), "keep one of them"),
        // io_uring_fill_params
        new("", p => p.Entries == 0, p => "the entries argument is 0: a ring needs at least one entry", "ask for 1 to 32768 entries"),
        new("", p => p.Entries > MaxEntries && !p.Has("IORING_SETUP_CLAMP"),
            p => $"the entries argument {p.Entries} is above IORING_MAX_ENTRIES ({MaxEntries}), and flags has no IORING_SETUP_CLAMP",
            $"ask for at most {MaxEntries} entries, or add IORING_SETUP_CLAMP"),
        new("cq_entries", p => p.Has("IORING_SETUP_CQSIZE") && p.CqEntries == 0, p => "is 0 with IORING_SETUP_CQSIZE in flags",
            "set cq_entries, or drop IORING_SETUP_CQSIZE"),
        new("cq_entries", p => p.Has("IORING_SETUP_CQSIZE") && p.CqEntries > MaxCqEntries && !p.Has("IORING_SETUP_CLAMP"),
            p => $"= {p.CqEntries} is above IORING_MAX_CQ_ENTRIES ({MaxCqEntries}), and flags has no IORING_SETUP_CLAMP",
            $"ask for at most {MaxCqEntries}, or add IORING_SETUP_CLAMP"),
        new("cq_entries", p => p.Has("IORING_SETUP_CQSIZE") && p.CqEntries > 0 && (p.Entries is > 0 and <= MaxEntries || (p.Entries > 0 && p.Has("IORING_SETUP_CLAMP"))) && (p.CqEntries <= MaxCqEntries || p.Has("IORING_SETUP_CLAMP")) &&
                               RoundUp(Math.Min(p.CqEntries, MaxCqEntries)) < p.SqEntries,
            p => $"= {p.CqEntries} is smaller than the submission queue ({p.SqEntries} entries: the entries argument {p.Entries} rounded up to a power of two)",
            "make cq_entries at least as large as entries"),
        // io_sq_offload_create
        new("wq_fd", p => p.Has("IORING_SETUP_ATTACH_WQ") && p.WqFdTarget is { } t && t != "anon_inode:[io_uring]",
            p => $"= {p.WqFd} with IORING_SETUP_ATTACH_WQ is not an io_uring descriptor (it is {StringEscaper.Quote(p.WqFdTarget!)})",
            "pass the descriptor of the ring whose workers to share"),
        new("sq_thread_cpu", p => p.Has("IORING_SETUP_SQPOLL") && p.Has("IORING_SETUP_SQ_AFF") && p.PossibleCpus is { } n && p.SqThreadCpu >= n,
            p => $"= {p.SqThreadCpu} is not a CPU of this machine (it has {p.PossibleCpus} possible CPUs, 0 to {p.PossibleCpus - 1})",
            $"pin the polling thread to an online CPU, or drop IORING_SETUP_SQ_AFF"),
        new("sq_thread_cpu", p => p.Has("IORING_SETUP_SQPOLL") && p.Has("IORING_SETUP_SQ_AFF") && p.PossibleCpus is { } n && p.SqThreadCpu < n &&
                                  p.Online is { } o && !CpuList.Contains(o, p.SqThreadCpu),
            p => $"= {p.SqThreadCpu} is offline (online CPUs: {p.Online})", "pin the polling thread to an online CPU"),
        new("sq_thread_cpu", p => p.Has("IORING_SETUP_SQPOLL") && p.Has("IORING_SETUP_SQ_AFF") && p.PossibleCpus is { } n && p.SqThreadCpu < n &&
                                  p.Online is { } o && CpuList.Contains(o, p.SqThreadCpu) && p.Cpuset is { } s && !CpuList.Contains(s, p.SqThreadCpu),
            p => $"= {p.SqThreadCpu} is not in the caller's cpuset (cpuset.cpus.effective {p.Cpuset}); the kernel probably refused it for that",
            "pin the polling thread to a CPU of the cpuset", Certain: false),
        new("flags", p => p.Has("IORING_SETUP_SQ_AFF") && !p.Has("IORING_SETUP_SQPOLL"),
            p => "has IORING_SETUP_SQ_AFF without IORING_SETUP_SQPOLL: only the polling thread can be pinned to a CPU",
            "add IORING_SETUP_SQPOLL, or drop IORING_SETUP_SQ_AFF"),
    ];

    private static string? Taskrun(Params p)
    {
        var set = new[] { "IORING_SETUP_COOP_TASKRUN", "IORING_SETUP_TASKRUN_FLAG", "IORING_SETUP_DEFER_TASKRUN" }.Where(p.Has).ToList();
        return set.Count == 0 ? null : string.Join(" and ", set);
    }

    private static string UnknownFlags(Params p)
    {
        var parts = new List<string>();
        for (int bit = 0; bit < 32; bit++)
        {
            if ((p.Unknown & 1u << bit) == 0) continue;
            var known = SetupFlags.FirstOrDefault(f => f.Bit == bit);
            parts.Add(known.Name is null
                ? $"bit {bit} ({Hex(1UL << bit)}), which no kernel whyfail knows defines"
                : $"{known.Name} ({Hex(1UL << bit)}), which came in Linux {known.Since}");
        }
        return $"has {string.Join(" and ", parts)}; this kernel{(p.Kernel is null ? "" : $" ({p.Kernel})")} probably rejects {(parts.Count > 1 ? "them" : "it")} as unknown";
    }

    public bool AppliesTo(SyscallEvent ev) => ev.Syscall == "io_uring_setup" && ev.Errno == Errnos.EINVAL;

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        proc.Checked.Add("the entries argument and the io_uring_params fields io_uring_setup, io_uring_create and io_sq_offload_create check");
        var d = ev.Capture(1)?.Data ?? [];
        bool have = d.Length >= Layout.Off("sq_off");
        uint U(string f, int k = 0) => Layout.Off(f) + 4 * k + 4 <= d.Length ? BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan(Layout.Off(f) + 4 * k)) : 0;
        uint flags = U("flags");
        int wqFd = (int)U("wq_fd");
        var p = new Params((uint)ev.Args[0], have, flags, U("cq_entries"), U("sq_thread_cpu"), wqFd,
            [.. Enumerable.Range(0, Layout.SizeOf("resv") / 4).Select(k => U("resv", k))], KernelVersion(),
            CpuList.Count(ProcFs.Read("/sys/devices/system/cpu/possible")), ProcFs.Read("/sys/devices/system/cpu/online")?.Trim(),
            new(() => Cpuset(proc)), new(() => WqFdTarget(proc, wqFd)));
        return Run(Id, "io_uring_params", Checks, p, ev.Errno);
    }

    // What the caller's descriptor wq_fd is ("anon_inode:[io_uring]" for a ring), or null.
    private static string? WqFdTarget(ProcessView proc, int wqFd)
    {
        if (wqFd < 0) return null;
        if (!proc.Alive) { proc.NoteLost($"descriptor {wqFd}"); return null; }
        return Native.ReadLink($"{proc.ProcDir}/fd/{wqFd}");
    }

    // The CPUs of the caller's cpuset (cgroup v2 cpuset.cpus.effective), or null.
    private static string? Cpuset(ProcessView proc)
    {
        if (!proc.Alive) { proc.NoteLost("its cpuset"); return null; }
        var line = (ProcFs.Read($"{proc.ProcDir}/cgroup") ?? "").Split('\n').FirstOrDefault(l => l.StartsWith("0::", StringComparison.Ordinal));
        if (line is null || line.Contains("..", StringComparison.Ordinal)) return null;
        return ProcFs.Read($"/sys/fs/cgroup{line[3..]}/cpuset.cpus.effective")?.Trim() is { Length: > 0 } s ? s : null;
    }
}
