namespace Whyfail.Events;

/// <summary>How a piece of user memory was copied by the capture stage (mirrors WF_CAP_* in bpf/whyfail.h).</summary>
public enum CaptureKind : byte
{
    None = 0,
    String = 1,      // NUL-terminated string, capped
    Fixed = 2,       // a fixed number of bytes (a struct)
    Sized = 3,       // length taken from another argument
    StringVector = 4,// NULL-terminated array of strings (argv/envp)
    SizedByPointer = 5, // length read through a pointer argument (socklen_t *)
    Nested = 6,      // memory a pointer inside an argument's copied structure points to (Index: the nested entry)
    Entry = 7,       // an argument's first bytes as they were at sys_enter (in/out structures the kernel writes back)
}

/// <summary>User memory an argument pointed at, copied in the kernel at syscall exit.</summary>
/// <param name="Arg">Argument index, 0..5.</param>
/// <param name="Index">Element index for <see cref="CaptureKind.StringVector"/>, the nested entry for
/// <see cref="CaptureKind.Nested"/>, else 0.</param>
/// <param name="Data">The bytes, or null when the memory could not be read (bad address).</param>
/// <param name="FullLength">For sized captures: the length the program asked for, before the cap.</param>
/// <param name="Faulted">The object ran into an unreadable page: <paramref name="Data"/> is the readable
/// prefix of the <paramref name="FullLength"/> bytes asked for, and the rest could not be read.</param>
public sealed record CapturedArg(int Arg, CaptureKind Kind, int Index, byte[]? Data, int FullLength, bool Faulted = false);

/// <summary>
/// A kernel function that returned an error value while the call ran (origin backends), in return
/// order. <paramref name="Function"/> is an address (fexit) or, with <paramref name="IsIndex"/>, the
/// index of the function in the attach list (kretprobe cookie).
/// </summary>
/// <param name="StackPointer">A stack address at return: lower means deeper in the call chain.</param>
/// <param name="Stack">Return addresses of its callers, innermost first.</param>
public sealed record OriginRecord(ulong Function, bool IsIndex, long Ret, ulong StackPointer, IReadOnlyList<ulong> Stack);

/// <summary>An error-site kprobe (--pinpoint) that fired during the call: its index (cookie) and RFLAGS at that moment.</summary>
public readonly record struct SiteHit(int Probe, ulong Flags);

/// <summary>One system call as the kernel saw it at exit, plus everything analysis adds to it.</summary>
public sealed class SyscallEvent
{
    public ulong TimestampNs { get; init; }
    public int Pid { get; init; }
    public int Tid { get; init; }
    public string Comm { get; init; } = "";
    public uint Uid { get; init; }
    public uint Euid { get; init; }
    public uint Gid { get; init; }
    public uint Egid { get; init; }
    public int Nr { get; init; }
    /// <summary>The return value user space sees (negative errno on failure).</summary>
    public long Ret { get; set; }
    /// <summary>The value the kernel returned at syscall exit; differs from <see cref="Ret"/> when signal
    /// delivery turned a kernel-internal ERESTART* code into EINTR.</summary>
    public long KernelRet { get; init; }
    /// <summary>The six raw arguments. An event made without them (an io_uring completion) shares one array of zeros
    /// (never written): the initialiser ran for every event before, whose parser then replaced the array (issue 16.3).</summary>
    public ulong[] Args { get; init; } = NoArgs;
    private static readonly ulong[] NoArgs = new ulong[6];
    public IReadOnlyList<CapturedArg> Captured { get; init; } = [];
    /// <summary>A string or buffer was longer than what the capture keeps.</summary>
    public bool CaptureTruncated { get; init; }
    /// <summary>Error returns of traced kernel functions during the call (empty without an origin backend).</summary>
    public IReadOnlyList<OriginRecord> OriginRecords { get => _rare?.OriginRecords ?? []; init { if (value.Count > 0) More.OriginRecords = value; } }
    /// <summary>--args: parallel to <see cref="OriginRecords"/>, each function's arguments (null where none came).</summary>
    public IReadOnlyList<OriginCallArgs?> OriginArgs { get => _rare?.OriginArgs ?? []; set { if (_rare != null || value.Count > 0) More.OriginArgs = value; } }
    /// <summary>Error returns that happened but were not kept (only the latest 16 are).</summary>
    public int OriginDropped { get => _rare?.OriginDropped ?? 0; init { if (value != 0) More.OriginDropped = value; } }
    /// <summary>Error-site kprobes that fired during the call (--pinpoint), in firing order; only the latest 8 are kept.</summary>
    public IReadOnlyList<SiteHit> SiteHits { get => _rare?.SiteHits ?? []; init { if (value.Count > 0) More.SiteHits = value; } }
    /// <summary>More evidence happened during the call than the kernel side keeps.</summary>
    public bool EvidenceLost { get; init; }
    /// <summary>The caller's cgroup v2 id (the inode of its directory under /sys/fs/cgroup); 0 when unknown.</summary>
    public ulong CgroupId { get; init; }
    /// <summary>That cgroup's path and the container or service it names, when it could be resolved.</summary>
    public CgroupInfo? Cgroup { get; set; }

    /// <summary>A success reported because it follows a failure of the same task (what the program did next; not --all).</summary>
    public bool FollowUp { get; init; }
    /// <summary>The call succeeded but its data is an error (getsockopt SO_ERROR): <see cref="Ret"/> holds that error.</summary>
    public bool ErrorAsData { get; set; }

    /// <summary>
    /// For an error delivered as data on a socket (getsockopt SO_ERROR): the struct sockaddr the same process's last
    /// connect() on that descriptor named, as captured (a non-blocking connect's outcome is read this way), or null when
    /// whyfail did not see that call. The explanation and the verdict (the failure's subject) both read it.
    /// </summary>
    public byte[]? ConnectedTo { get; set; }

    /// <summary>
    /// With <see cref="ConnectedTo"/>: the network namespace that connect() ran in (its context's
    /// <see cref="FailureContext.NetNs"/>), 0 when not known. An error delivered as data has no context of its own.
    /// </summary>
    public uint ConnectedNetNs { get; set; }

    /// <summary>The task's state at the failure (credentials, limits, cwd/root, descriptor arguments), or null.</summary>
    public FailureContext? Context { get => _context; init => _context = value; }
    private FailureContext? _context;

    /// <summary>
    /// After the event was rendered: the raw kernel data that only analysis and rendering read (the failure's
    /// context, origin records, site hits) is dropped. An event kept longer, in the verdict's history of its
    /// process, then holds what the verdict reads (call, arguments, errno, explanation, consequence), not ~1 KB
    /// of context per failure.
    /// </summary>
    public void DropRaw()
    {
        _context = null;
        if (_rare is not { } r) return;
        r.OriginRecords = [];
        r.OriginArgs = [];
        r.SiteHits = [];
    }

    // Filled by decoding and analysis.
    public string Syscall { get; set; } = "";
    public IReadOnlyList<string> DecodedArgs { get; set; } = [];
    // Made when first asked for: most failures of a flood have neither, and the verdict holds thousands of them.
    public List<Evidence> Evidence => _evidence ??= [];
    private List<Evidence>? _evidence;
    public List<Explanation> Explanation => _explanation ??= [];
    private List<Explanation>? _explanation;
    /// <summary>Whether <see cref="Evidence"/> / <see cref="Explanation"/> have entries, without making the lists.</summary>
    public bool HasEvidence => _evidence is { Count: > 0 };
    public bool HasExplanation => _explanation is { Count: > 0 };
    public Origin? Origin { get => _rare?.Origin; set { if (_rare != null || value != null) More.Origin = value; } }
    /// <summary>With an origin backend: why this failure's kernel origin is missing or partial (<see cref="OriginMiss"/>), else null.</summary>
    public string? OriginMissed { get => _rare?.OriginMissed; set { if (_rare != null || value != null) More.OriginMissed = value; } }
    /// <summary>Why the failure was judged routine (recovered by design), or null (the verdict).</summary>
    public Routine? Routine { get; set; }
    /// <summary>What the failure led to: the message it caused, the exit it explains (the verdict), or null.</summary>
    public Consequence? Consequence { get => _rare?.Consequence; set { if (_rare != null || value != null) More.Consequence = value; } }

    public bool Failed => Ret < 0;
    public int Errno => Ret < 0 && Ret >= -4095 ? (int)-Ret : 0;
    public int KernelErrno => KernelRet < 0 && KernelRet >= -4095 ? (int)-KernelRet : 0;

    /// <summary>The first capture of argument <paramref name="arg"/>, or null when none was taken.</summary>
    public CapturedArg? Capture(int arg)
    {
        var captured = Captured; // indexed: a foreach over the interface would allocate an enumerator per call
        for (int i = 0; i < captured.Count; i++)
            if (captured[i] is var c && c.Arg == arg && c.Kind is not (CaptureKind.Nested or CaptureKind.Entry)) return c;
        return null;
    }

    /// <summary>The strings captured for a string-vector argument (argv), in order.</summary>
    public IEnumerable<CapturedArg> Vector(int arg) => Captured.Where(c => c.Arg == arg && c.Kind == CaptureKind.StringVector).OrderBy(c => c.Index);

    /// <summary>--inject: how whyfail made this call return what it returned (null when it did not).</summary>
    public string? InjectedBy { get => _rare?.InjectedBy; set { if (_rare != null || value != null) More.InjectedBy = value; } }
    public bool Injected => InjectedBy != null;

    /// <summary>`whyfail deny`: the rule's refusal that made this call fail (null when no rule refused it).</summary>
    public Denial? DeniedBy { get => _rare?.DeniedBy; set { if (_rare != null || value != null) More.DeniedBy = value; } }

    /// <summary>An io_uring completion with an error (then <see cref="ErrorAsData"/> is set), not a syscall's own result.</summary>
    public UringCompletion? Uring { get => _rare?.Uring; init { if (value != null) More.Uring = value; } }

    /// <summary>
    /// The fields most calls never set (origins, error-site hits, --inject, deny, io_uring, the verdict's consequence), in
    /// one object made when one of them is set: the verdict holds thousands of a flood's failures, and the GC copies what it
    /// holds (issue 16: a smaller event is less to copy).
    /// </summary>
    private sealed class Rare
    {
        public IReadOnlyList<OriginRecord> OriginRecords = [];
        public IReadOnlyList<OriginCallArgs?> OriginArgs = [];
        public int OriginDropped;
        public IReadOnlyList<SiteHit> SiteHits = [];
        public Origin? Origin;
        public string? OriginMissed;
        public Consequence? Consequence;
        public string? InjectedBy;
        public Denial? DeniedBy;
        public UringCompletion? Uring;
    }

    private Rare? _rare;
    private Rare More => _rare ??= new Rare();
}

/// <summary>Values of <see cref="SyscallEvent.OriginMissed"/> (docs/json.md).</summary>
public static class OriginMiss
{
    /// <summary>The syscall's call graph was not (fully) watched yet when it failed: attached in the background, or on this first failure.</summary>
    public const string NotWatchedYet = "not watched yet";
    /// <summary>The syscall is not among those watched (--deep LIST for a command), or the growth budget is spent.</summary>
    public const string NotWatched = "not watched";
}
