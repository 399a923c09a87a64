namespace Whyfail.Events;

/// <summary>
/// Something the kernel did during the failing call (a denied capability check, a signal, a seccomp
/// verdict). Each kind gives one line for people and its facts as named fields; output formats (Rendering/) decide
/// how to write them.
/// </summary>
public abstract class Evidence
{
    public abstract string Kind { get; }
    /// <summary>One line for people, e.g. "capability CAP_SYS_ADMIN denied (euid 1000, user namespace level 0)".</summary>
    public abstract string Text { get; }
    /// <summary>The facts, in a stable order (JSON writes them between "kind" and "text"; docs/json.md names them).</summary>
    public abstract IEnumerable<EvidenceField> Fields { get; }
}

/// <summary>
/// One named fact of a piece of evidence: a string, a signed or unsigned integer, a boolean or a list of strings
/// (<see cref="Value"/> holds one of those; the factories keep it so).
/// </summary>
public readonly struct EvidenceField
{
    public string Name { get; }
    public object Value { get; }
    private EvidenceField(string name, object value) { Name = name; Value = value; }

    public static EvidenceField Of(string name, string value) => new(name, value);
    public static EvidenceField Of(string name, long value) => new(name, value);
    public static EvidenceField Of(string name, ulong value) => new(name, value);
    public static EvidenceField Of(string name, bool value) => new(name, value);
    public static EvidenceField Of(string name, IReadOnlyList<string> value) => new(name, value);
}

/// <summary>A plain-language cause, produced by one explanation rule from evidence and live state.</summary>
/// <param name="Rule">Stable rule id, e.g. "path.missing_component".</param>
/// <param name="Text">The sentence.</param>
/// <param name="Fix">A suggested fix, when one is known.</param>
/// <param name="Certain">False when the rule infers ("probably …").</param>
/// <param name="FromErrno">The sentence follows from the call and its errno alone (no live state was needed), so it
/// stays certain after the process is gone.</param>
public sealed record Explanation(string Rule, string Text, string? Fix = null, bool Certain = true, bool FromErrno = false);

/// <summary>Where in the kernel the error was born (filled by origin backends, issue-level feature).</summary>
public sealed class Origin
{
    public string Function { get; init; } = "";
    public long Offset { get; init; }
    public IReadOnlyList<string> Chain { get; init; } = [];
    public IReadOnlyList<string> ErrnoChanges { get; init; } = [];
    public string Backend { get; init; } = "";
    public string Confidence { get; init; } = "";
    /// <summary>The origin's callers from its kernel stack ("vfs_write+0x2a1"), traced or not, innermost first.</summary>
    public IReadOnlyList<string> Stack { get; init; } = [];
    /// <summary>Deeper functions that returned a different error first, which the chain then changed (innermost first).</summary>
    public IReadOnlyList<string> Inner { get; init; } = [];
    /// <summary>Parallel to <see cref="Chain"/>: false for functions seen only on the kernel stack (not watched).</summary>
    public IReadOnlyList<bool> ChainWatched { get; init; } = [];
    /// <summary>Parallel to <see cref="Chain"/>: the index of the link's record in the event's origin records, -1 for functions seen only on the kernel stack.</summary>
    public IReadOnlyList<int> ChainRecords { get; init; } = [];
    /// <summary>--args: parallel to <see cref="Chain"/>, each function's arguments typed from BTF (null where none were recorded).</summary>
    public IReadOnlyList<IReadOnlyList<ProbeValue>?> ChainArgs { get; set; } = [];
    /// <summary>The origin function was not watched: it was placed from the kernel stack (a later occurrence may confirm it).</summary>
    public bool Inferred { get; init; }
    /// <summary>
    /// The origin function made calls nobody watched (indirect calls through function pointers, or direct calls to
    /// functions not watched) and holds no instruction producing the errno itself: the error may come from deeper.
    /// </summary>
    public bool Deeper { get; init; }
    /// <summary>Why <see cref="Deeper"/>: what it called that was not watched.</summary>
    public string? DeeperWhy { get; init; }
    /// <summary>How the origin was found: "return_values", "kernel_stack", "zoom" (watched because an earlier failure's
    /// origin was uncertain), or for origins that are not functions "sys_enter", "seccomp_filters", "signal", "audit", "lsm_hook".</summary>
    public string FoundBy { get; set; } = "";
    /// <summary>With <see cref="FoundBy"/> "zoom": the way the origin function came to be watched: "kernel_stack" (seen on an
    /// earlier failure's stack), "callees" (a direct callee of an origin that may be deeper), "btf_targets" (a function an
    /// indirect call of such an origin can reach: its prototype is an operations table's, its name the failure's file system's).</summary>
    public string? ZoomedBy { get; set; }
    /// <summary>"function", or an origin that is not a function: "seccomp", "signal", "lsm".</summary>
    public string Kind { get; set; } = "function";
    /// <summary>For kinds other than "function": what refused or interrupted the call, in words.</summary>
    public string? Cause { get; set; }
    /// <summary>"lsm": the security module ("apparmor", "selinux", "landlock"…).</summary>
    public string? Module { get; set; }
    /// <summary>"lsm": the hook (its implementation function when watched, e.g. apparmor_file_open, else the operation).</summary>
    public string? Hook { get; set; }
    /// <summary>"signal": the signal's name.</summary>
    public string? Signal { get; set; }

    // Source lines (set when a debug vmlinux is found; see Analysis/Origin/Source).
    /// <summary>Where the origin is in the source: the exact error site, else the function; innermost inlined frame first.</summary>
    public IReadOnlyList<SourceFrame> Frames { get; set; } = [];
    /// <summary>Per chain link, where it called the next inner link (from the kernel stack); empty lists where unknown.</summary>
    public IReadOnlyList<IReadOnlyList<SourceFrame>> ChainFrames { get; set; } = [];
    /// <summary>"exact" (one site produces the errno), "candidates" (several), "none" (no constant found), or null (not looked for).</summary>
    public string? SiteKind { get; set; }
    /// <summary>The instructions in the origin function (and what is inlined into it) that produce the errno.</summary>
    public IReadOnlyList<ErrorSite> Sites { get; set; } = [];
    /// <summary>Source lines around the exact site, when the kernel source is available.</summary>
    public SourceSnippet? Snippet { get; set; }
    /// <summary>--pinpoint: a kprobe on the error sites fired during this call and chose <see cref="Sites"/>.</summary>
    public bool Pinpointed { get; set; }
}

/// <summary>A place in the kernel source; <paramref name="Inlined"/> when the function was inlined into the next outer frame.</summary>
public sealed record SourceFrame(string Function, string File, int Line, bool Inlined);

/// <summary>
/// One place that produces the errno constant: its offset in the function that holds it (the outermost of
/// its frames: the origin function, or one of its callees when the origin has none itself) and its
/// source frames (innermost first); <paramref name="Text"/> is the source line when the source is there.
/// </summary>
public sealed record ErrorSite(long Offset, IReadOnlyList<SourceFrame> Frames, string? Text);

/// <summary>Lines <paramref name="FirstLine"/>… of <paramref name="File"/>, with <paramref name="Line"/> the error line.</summary>
public sealed record SourceSnippet(string File, int FirstLine, int Line, IReadOnlyList<string> Lines);
