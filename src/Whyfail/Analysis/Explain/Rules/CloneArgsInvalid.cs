using System.Buffers.Binary;
using Whyfail.Decoding;
using Whyfail.Events;
using static Whyfail.Analysis.Explain.FieldChecks;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// EINVAL and E2BIG from clone3: the field of struct clone_args (or the size argument) that the kernel's checks
/// refuse, in their order — copy_clone_args_from_user (size, set_tid/set_tid_size, exit_signal, cgroup),
/// clone3_args_valid (unknown flags, exit-signal bits in flags, CLONE_DETACHED, CLONE_CLEAR_SIGHAND, exit_signal
/// with CLONE_THREAD/CLONE_PARENT, stack/stack_size), kernel_clone, copy_process (flag combinations, init's
/// siblings, pid namespaces) and alloc_pid (set_tid_size against the namespace depth). The flag combinations come
/// from the capture; the caller's pid namespaces from /proc/PID while it runs.
/// </summary>
public sealed class CloneArgsInvalid : IExplainRule
{
    public string Id => "clone.invalid_args";

    /// <summary>The checks read the captured struct; those that need the live process stay silent once it is gone.</summary>
    public bool FromEvidence => true;

    private static readonly XlatTable Flags = Xlat.Table("clone_flags");
    private static readonly StructLayout Layout = Xlat.Struct("clone_args");
    private static readonly ulong Ver0 = Xlat.Table("clone_args_sizes")["CLONE_ARGS_SIZE_VER0"];
    private static readonly ulong Ver2 = Xlat.Table("clone_args_sizes")["CLONE_ARGS_SIZE_VER2"];
    private static readonly ulong CSignal = Xlat.Table("clone_masks")["CSIGNAL"];
    private static readonly ulong NewTime = Xlat.Table("namespace_flags")["CLONE_NEWTIME"];
    private static ulong F(string name) => Flags[name];

    // Kernel constants that are not in the UAPI headers: CLONE_LEGACY_FLAGS (kernel/fork.c, the 32 bits clone()
    // takes), MAX_PID_NS_LEVEL (include/linux/pid_namespace.h), PAGE_SIZE on x86_64, _NSIG, and TASK_SIZE_MAX with
    // 4-level page tables (arch/x86/include/asm/page_64_types.h).
    private const ulong LegacyFlags = 0xffffffff, MaxPidNsLevel = 32, PageSize = 4096, NSig = 64, TaskSizeMax4 = 0x7ffffffff000;

    /// <summary>
    /// What the capture showed and what /proc said about the caller. The pid namespaces are read when a check first asks
    /// (only the checks of flags and set_tid_size that need them do), so that a process gone since is noted as such only
    /// then.
    /// </summary>
    internal sealed record Call(ulong Size, bool Have, ulong Flags, ulong Pidfd, ulong ParentTid, ulong ExitSignal, ulong Stack,
        ulong StackSize, ulong SetTid, ulong SetTidSize, ulong Cgroup, int Pid, Lazy<(bool? IsInit, int? Level, bool? ForChildrenDiffers)> PidNs,
        Version? Kernel)
    {
        public bool Has(string flag) => Have && (Flags & F(flag)) != 0;
        public string Sig => Signals.Format((long)ExitSignal);
        public bool? IsNsInit => PidNs.Value.IsInit;
        public int? PidNsLevel => PidNs.Value.Level;
        public bool? PidNsForChildrenDiffers => PidNs.Value.ForChildrenDiffers;
    }

    private static readonly ulong Clone3Flags = LegacyFlags | F("CLONE_CLEAR_SIGHAND") | F("CLONE_INTO_CGROUP");

    /// <summary>The checks, in the order the kernel makes them.</summary>
    internal static readonly FieldCheck<Call>[] Checks =
    [
        // copy_clone_args_from_user
        new("", c => c.Size > PageSize, c => $"the size argument {Dec(c.Size)} is larger than a page ({PageSize} bytes)",
            "pass sizeof(struct clone_args)", Errno: Errnos.E2BIG),
        new("", c => c.Size > (ulong)Layout.Size && c.Size <= PageSize,
            c => $"the size argument {Dec(c.Size)} is larger than struct clone_args in the headers whyfail knows ({Layout.Size} bytes); the kernel refuses with E2BIG when the bytes after its own struct are not all zero, which is probably the case",
            "zero the whole struct before filling it in, or pass sizeof(struct clone_args)", Certain: false, Errno: Errnos.E2BIG),
        new("", c => c.Size < Ver0, c => $"the size argument {Dec(c.Size)} is below CLONE_ARGS_SIZE_VER0 ({Ver0}), the smallest struct clone_args",
            "pass sizeof(struct clone_args)"),
        new("set_tid_size", c => c.Have && c.SetTidSize > MaxPidNsLevel, c => $"= {Dec(c.SetTidSize)} is above MAX_PID_NS_LEVEL ({MaxPidNsLevel})",
            "pass one pid per pid namespace level, at most 32"),
        new("set_tid_size", c => c.Have && c.SetTid == 0 && c.SetTidSize > 0, c => $"= {Dec(c.SetTidSize)} but set_tid is NULL",
            "point set_tid at the array of pids, or set set_tid_size to 0"),
        new("set_tid", c => c.Have && c.SetTid != 0 && c.SetTidSize == 0, c => $"= {Hex(c.SetTid)} but set_tid_size is 0",
            "set set_tid_size to the number of pids in set_tid, or set_tid to NULL"),
        new("exit_signal", c => c.Have && c.ExitSignal > NSig, c => $"= {Dec(c.ExitSignal)} is not a signal number (0 to {NSig})",
            "use a signal number such as SIGCHLD (17), or 0 for none"),
        new("cgroup", c => c.Has("CLONE_INTO_CGROUP") && c.Cgroup > int.MaxValue, c => $"= {Dec(c.Cgroup)} with CLONE_INTO_CGROUP is above INT_MAX, so no file descriptor",
            "pass the descriptor of the cgroup directory"),
        new("flags", c => c.Has("CLONE_INTO_CGROUP") && c.Size < Ver2, c => $"has CLONE_INTO_CGROUP, but the size argument {Dec(c.Size)} is below CLONE_ARGS_SIZE_VER2 ({Ver2}), the first size that holds cgroup",
            "pass sizeof(struct clone_args)"),
        // clone3_args_valid
        new("flags", c => c.Have && (c.Flags & ~Clone3Flags) != 0,
            c => $"= {Flags.Flags(c.Flags)} has {Hex(c.Flags & ~Clone3Flags)}, which no clone3 flag whyfail knows covers (the highest is CLONE_INTO_CGROUP {Hex(F("CLONE_INTO_CGROUP"))}); the kernel probably rejects it as unknown",
            "remove the unknown bits", Certain: false),
        new("flags", c => c.Have && (c.Flags & CSignal & ~NewTime) != 0,
            c => $"= {CloneFamily.FlagsWithSignal(c.Flags)} has a signal in its low byte: clone3 takes the exit signal in exit_signal, not in flags as clone() does",
            "move the signal to exit_signal and clear the low byte of flags"),
        new("flags", c => c.Has("CLONE_DETACHED"), c => "has CLONE_DETACHED, which clone3 does not accept", "remove CLONE_DETACHED"),
        new("flags", c => c.Has("CLONE_SIGHAND") && c.Has("CLONE_CLEAR_SIGHAND"),
            c => "has both CLONE_SIGHAND and CLONE_CLEAR_SIGHAND: handlers that are shared cannot be reset",
            "remove one of them"),
        new("exit_signal", c => (c.Has("CLONE_THREAD") || c.Has("CLONE_PARENT")) && c.ExitSignal != 0,
            c => $"= {c.Sig} with {(c.Has("CLONE_THREAD") ? "CLONE_THREAD" : "CLONE_PARENT")} in flags: a thread or a sibling sends no exit signal to the caller",
            "set exit_signal to 0"),
        new("stack_size", c => c.Have && c.Stack == 0 && c.StackSize > 0, c => $"= {Hex(c.StackSize)} but stack is NULL",
            "point stack at the lowest address of the child's stack, or set stack_size to 0"),
        new("stack", c => c.Have && c.Stack != 0 && c.StackSize == 0, c => $"= {Hex(c.Stack)} but stack_size is 0",
            "set stack_size to the size of the stack"),
        new("stack", c => c.Have && c.Stack != 0 && c.StackSize != 0 && (c.Stack + c.StackSize < c.Stack || c.Stack + c.StackSize > TaskSizeMax4),
            c => $"= {Hex(c.Stack)} with stack_size {Hex(c.StackSize)} ends beyond the user address space; access_ok probably refused it",
            "pass the child's stack memory (its lowest address and its size)", Certain: false),
        // kernel_clone
        new("pidfd", c => c.Has("CLONE_PIDFD") && c.Has("CLONE_PARENT_SETTID") && c.Pidfd == c.ParentTid,
            c => $"and parent_tid are the same address {Hex(c.Pidfd)} with CLONE_PIDFD and CLONE_PARENT_SETTID",
            "give pidfd and parent_tid separate variables"),
        // copy_process
        new("flags", c => c.Has("CLONE_NEWNS") && c.Has("CLONE_FS"),
            c => "has CLONE_NEWNS with CLONE_FS: a child in a new mount namespace cannot share its root and working directory with the caller",
            "remove CLONE_FS"),
        new("flags", c => c.Has("CLONE_NEWUSER") && c.Has("CLONE_FS"),
            c => "has CLONE_NEWUSER with CLONE_FS: a child in a new user namespace cannot share its root and working directory with the caller",
            "remove CLONE_FS"),
        new("flags", c => c.Has("CLONE_THREAD") && !c.Has("CLONE_SIGHAND"),
            c => "has CLONE_THREAD without CLONE_SIGHAND: the threads of a process share their signal handlers",
            "add CLONE_SIGHAND and CLONE_VM"),
        new("flags", c => c.Has("CLONE_SIGHAND") && !c.Has("CLONE_VM"),
            c => "has CLONE_SIGHAND without CLONE_VM: shared signal handlers need shared memory",
            "add CLONE_VM, or remove CLONE_SIGHAND"),
        new("flags", c => c.Has("CLONE_PARENT") && c.IsNsInit == true,
            c => $"has CLONE_PARENT, and pid {c.Pid} is the init process of its pid namespace, which may not create siblings",
            "remove CLONE_PARENT"),
        new("flags", c => c.Has("CLONE_THREAD") && (c.Has("CLONE_NEWUSER") || c.Has("CLONE_NEWPID")),
            c => $"has CLONE_THREAD with {(c.Has("CLONE_NEWUSER") ? "CLONE_NEWUSER" : "CLONE_NEWPID")}: a thread cannot be in another namespace than its process",
            "create a process (no CLONE_THREAD) for the new namespace"),
        new("flags", c => c.Has("CLONE_THREAD") && c.PidNsForChildrenDiffers == true,
            c => $"has CLONE_THREAD, but pid {c.Pid} has unshared its pid namespace for children (/proc/{c.Pid}/ns/pid_for_children is not ns/pid), and a thread cannot be in another pid namespace",
            "create a process (no CLONE_THREAD), or create the threads before unshare(CLONE_NEWPID)"),
        new("flags", c => c.Has("CLONE_PIDFD") && c.Has("CLONE_THREAD") && c.Kernel is { } k && k < new Version(6, 9),
            c => $"has CLONE_PIDFD with CLONE_THREAD, which kernels before 6.9 refuse (this one is {c.Kernel})",
            "remove CLONE_PIDFD, or use pidfd_open on the thread's process"),
        new("flags", c => c.Has("CLONE_NEWIPC") && c.Has("CLONE_SYSVSEM"),
            c => "has CLONE_NEWIPC with CLONE_SYSVSEM: System V semaphore undo lists cannot be shared into a new IPC namespace",
            "remove CLONE_SYSVSEM"),
        // alloc_pid
        new("set_tid_size", c => c.Have && c.SetTidSize > 0 && c.SetTidSize <= MaxPidNsLevel && c.PidNsLevel is { } l &&
                                 c.SetTidSize > (ulong)(l + 1 + (c.Has("CLONE_NEWPID") ? 1 : 0)),
            c => $"= {Dec(c.SetTidSize)} is more than the {c.PidNsLevel + 1 + (c.Has("CLONE_NEWPID") ? 1 : 0)} pid namespace(s) the child is in",
            "pass one pid per pid namespace level the child has, innermost first"),
    ];

    public bool AppliesTo(SyscallEvent ev) => ev.Syscall == "clone3" && ev.Errno is Errnos.EINVAL or Errnos.E2BIG;

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        proc.Checked.Add("the size argument, the clone_args fields and flag combinations copy_clone_args_from_user, clone3_args_valid, kernel_clone, copy_process and alloc_pid check");
        var d = ev.Capture(0)?.Data ?? [];
        ulong size = ev.Args[1];
        // Only what the caller passed (size) and whyfail copied counts; the kernel zero-fills the rest.
        int avail = (int)Math.Min((ulong)d.Length, size);
        ulong U(string f) => Layout.End(f) <= avail ? BinaryPrimitives.ReadUInt64LittleEndian(d.AsSpan(Layout.Off(f))) : 0;
        var call = new Call(size, avail >= (int)Ver0, U("flags"), U("pidfd"), U("parent_tid"), U("exit_signal"), U("stack"),
            U("stack_size"), U("set_tid"), U("set_tid_size"), U("cgroup"), proc.Pid, new(() => PidNamespaces(proc)), KernelVersion());
        return Run(Id, "clone_args", Checks, call, ev.Errno);
    }

    // Whether the caller is its pid namespace's init, how deep that namespace is, and whether it has unshared
    // the pid namespace of its future children; nulls when the process is gone.
    private static (bool?, int?, bool?) PidNamespaces(ProcessView proc)
    {
        if (!proc.Alive) { proc.NoteLost("its pid namespaces"); return (null, null, null); }
        var nspid = (ProcFs.Read($"{proc.ProcDir}/status") ?? "").Split('\n')
            .FirstOrDefault(l => l.StartsWith("NSpid:", StringComparison.Ordinal))?[6..]
            .Split(['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
        string? ns = Native.ReadLink($"{proc.TaskDir}/ns/pid"), forChildren = Native.ReadLink($"{proc.TaskDir}/ns/pid_for_children");
        bool? differs = ns is null || forChildren is null ? null : ns != forChildren;
        return nspid is { Length: > 0 } ? (nspid[^1] == "1", nspid.Length - 1, differs) : (null, null, differs);
    }
}
