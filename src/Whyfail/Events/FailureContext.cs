namespace Whyfail.Events;

/// <summary>What a <see cref="ContextFile"/> is (mirrors WF_FILE_* in bpf/whyfail.h).</summary>
[Flags]
public enum ContextFileFlags : ushort
{
    None = 0,
    /// <summary>The descriptor was open (else only the number and argument are known).</summary>
    Open = 1,
    /// <summary>The path is not below the task's root: the names end at a mount namespace's root.</summary>
    Unreachable = 2,
    /// <summary>More components or bytes than the kernel side keeps: the path is its last part only.</summary>
    Truncated = 4,
    /// <summary>The file had been unlinked.</summary>
    Deleted = 8,
    /// <summary>No path: a pipe, socket or anonymous inode.</summary>
    Pseudo = 16,
}

/// <summary>
/// A file the failing task had at the failure (its cwd, its root, or a descriptor argument), read in the kernel at
/// the call's exit. <see cref="Path"/> is in the task's own view (below its root).
/// </summary>
/// <param name="Fd">The descriptor number, or <see cref="CwdFd"/> / <see cref="RootFd"/>.</param>
/// <param name="Arg">The argument index the descriptor came from, or -1 for the cwd and the root.</param>
/// <param name="Dev">The device number in the kernel's encoding (major &lt;&lt; 20 | minor).</param>
/// <param name="Names">The path's names from the leaf up, as captured.</param>
public sealed record ContextFile(int Fd, int Arg, ContextFileFlags Flags, uint Mode, uint OpenFlags, uint Dev, int MountId,
    ulong Inode, long Position, string FsType, IReadOnlyList<string> Names)
{
    public const int CwdFd = -100, RootFd = -101;

    public bool Open => (Flags & ContextFileFlags.Open) != 0;
    public bool Pseudo => (Flags & ContextFileFlags.Pseudo) != 0;
    public bool Deleted => (Flags & ContextFileFlags.Deleted) != 0;
    public bool Truncated => (Flags & ContextFileFlags.Truncated) != 0;
    public bool Unreachable => (Flags & ContextFileFlags.Unreachable) != 0;
    public uint DevMajor => Dev >> 20;
    public uint DevMinor => Dev & 0xfffff;
    /// <summary>S_IFMT bits of the mode.</summary>
    public uint Type => Mode & 0xF000;

    /// <summary>
    /// The absolute path in the task's view, or null when there is none (not open, a pipe or socket) or only its last
    /// part is known (<see cref="Truncated"/>, <see cref="Unreachable"/>).
    /// </summary>
    public string? Path => !Open || Pseudo || Truncated || Unreachable ? null : "/" + string.Join('/', Names.Reverse());

    /// <summary>What /proc/PID/fd/N would show: the path, "socket:[ino]", "pipe:[ino]", "anon_inode:[eventfd]", ….</summary>
    public string? Target => !Open ? null
        : Pseudo ? FsType switch
        {
            "sockfs" => $"socket:[{Inode}]",
            "pipefs" => $"pipe:[{Inode}]",
            "anon_inodefs" => $"anon_inode:{(Names.Count > 0 ? Names[0] : "[unknown]")}",
            _ => Names.Count > 0 ? $"{FsType}:{Names[0]}" : $"{FsType}:[{Inode}]",
        }
        : Path is { } p ? p + (Deleted ? " (deleted)" : "")
        : Names.Count > 0 ? "…/" + string.Join('/', Names.Reverse()) : null;
}

/// <summary>
/// The argument and environment strings of an execve that failed with E2BIG, counted in the kernel at the failure as
/// fs/exec.c counts them: each string with its NUL.
/// </summary>
/// <param name="LongestInEnv">Whether the longest string is in envp (else argv).</param>
/// <param name="Partial">The count stopped before the end (the numbers are lower bounds).</param>
/// <param name="Fault">A pointer or string could not be read: the numbers stop there.</param>
public sealed record ExecArgs(ulong ArgStrings, ulong ArgBytes, ulong EnvStrings, ulong EnvBytes, ulong Longest,
    bool LongestInEnv, uint LongestIndex, bool Partial, bool Fault)
{
    /// <summary>Whether the numbers are complete.</summary>
    public bool Complete => !Partial && !Fault;
}

/// <summary>
/// The failing task's state as of the failing call's exit, captured in the kernel (struct wf_context): what the
/// explanation rules would otherwise read in /proc, which is gone when a short-lived command has exited.
/// </summary>
public sealed record FailureContext
{
    public uint Uid { get; init; }
    public uint Euid { get; init; }
    public uint Suid { get; init; }
    public uint Fsuid { get; init; }
    public uint Gid { get; init; }
    public uint Egid { get; init; }
    public uint Sgid { get; init; }
    public uint Fsgid { get; init; }
    /// <summary>The number of supplementary groups (<see cref="Groups"/> holds at most the first 16).</summary>
    public int GroupCount { get; init; }
    public IReadOnlyList<uint> Groups { get; init; } = [];
    public bool AllGroups => Groups.Count == GroupCount;
    public ulong CapEffective { get; init; }
    public ulong CapPermitted { get; init; }
    public uint Securebits { get; init; }
    public bool NoNewPrivs { get; init; }
    /// <summary>0 none, 1 strict, 2 filter.</summary>
    public int SeccompMode { get; init; }
    public int SeccompFilters { get; init; }
    /// <summary>
    /// In seccomp filter mode, the filters the thread held, as the kernel side copied them (null when they are not known:
    /// a record was lost, or the kernel keeps no copy of filter programs).
    /// </summary>
    public SeccompSnapshot? Seccomp { get; init; }
    public uint Umask { get; init; }
    /// <summary>Open descriptors at the failure (counted for EMFILE only), else null.</summary>
    public int? OpenFds { get; init; }
    /// <summary>The size of the descriptor table.</summary>
    public uint MaxFds { get; init; }
    /// <summary>Resource limits by their /proc/PID/limits names (soft, hard; null = unlimited).</summary>
    public IReadOnlyDictionary<string, (ulong? Soft, ulong? Hard)> Limits { get; init; } = new Dictionary<string, (ulong?, ulong?)>();
    /// <summary>Bit sig-1: the handler was SIG_IGN (known for <see cref="SignalsKnown"/> only).</summary>
    public ulong SignalsIgnored { get; init; }
    /// <summary>Bit sig-1: a handler was installed (known for <see cref="SignalsKnown"/> only).</summary>
    public ulong SignalsCaught { get; init; }
    /// <summary>The blocked mask, bit sig-1.</summary>
    public ulong SignalsBlocked { get; init; }
    /// <summary>The signals whose disposition is captured: SIGPIPE, SIGCHLD, SIGXFSZ (WF_CTX_SIGNALS).</summary>
    public static readonly int[] SignalsKnown = [13, 17, 25];

    /// <summary>As /proc/PID/status would say it: "ignores", "blocks", "handles", "takes the default action on"; null when not captured.</summary>
    public string? Disposition(int sig)
    {
        if (!SignalsKnown.Contains(sig)) return null;
        ulong bit = 1UL << (sig - 1);
        return (SignalsIgnored & bit) != 0 ? "ignores" : (SignalsBlocked & bit) != 0 ? "blocks" : (SignalsCaught & bit) != 0 ? "handles" : "takes the default action on";
    }

    public ContextFile? Cwd { get; init; }
    public ContextFile? Root { get; init; }
    /// <summary>The descriptor arguments' files, in argument order.</summary>
    public IReadOnlyList<ContextFile> Files { get; init; } = [];
    /// <summary>ETXTBSY from execve: the task's own descriptors open for writing on regular files (the first three).</summary>
    public IReadOnlyList<ContextFile> Writers { get; init; } = [];
    /// <summary><see cref="Writers"/> were looked for at the failure and are all there (fewer than the kernel side keeps).</summary>
    public bool WritersAll { get; init; }
    /// <summary>E2BIG from execve: argv and envp as counted at the failure, else null.</summary>
    public ExecArgs? Exec { get; init; }
    /// <summary>
    /// The task's network namespace: the inode number /proc/PID/ns/net names ("net:[N]"); 0 when it is not known (the
    /// task was past exit_task_namespaces). Sockets of a process that is gone are read in this namespace, not whyfail's.
    /// </summary>
    public uint NetNs { get; init; }

    /// <summary>The resource limits kept, in the kernel side's order (WF_CTX_RLIM_ORDER), with their /proc names.</summary>
    public static readonly string[] LimitNames =
        ["Max open files", "Max file size", "Max processes", "Max stack size", "Max locked memory", "Max address space"];

    /// <summary>The file of descriptor <paramref name="fd"/>, when it was one of the call's descriptor arguments.</summary>
    public ContextFile? File(int fd) => Files.FirstOrDefault(f => f.Fd == fd);
}
