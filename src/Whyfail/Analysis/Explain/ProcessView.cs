using System.Globalization;
using Whyfail.Events;

namespace Whyfail.Analysis.Explain;

/// <summary>
/// The traced process's view of the world, read through /proc/PID while it keeps running (nothing is stopped or
/// traced): its credentials, cwd and root, limits, open descriptors and mounts, plus a path walker that resolves
/// paths inside its root and checks permissions with its credentials. Everything is read lazily and at most once.
/// When the process is gone, <see cref="Alive"/> is false: credentials come from the event, absolute paths are
/// resolved against this machine's root and relative ones cannot be resolved.
/// </summary>
public sealed partial class ProcessView
{
    public int Pid { get; }
    public int Tid { get; }
    /// <summary>/proc/PID existed when the view was made (and is the process of the event).</summary>
    public bool Alive { get; }
    /// <summary>/proc/PID exists but belongs to a process started after the event: the pid was reused.</summary>
    public bool PidReused { get; }
    /// <summary>/proc/PID.</summary>
    public string ProcDir { get; }
    /// <summary>/proc/PID/task/TID (the thread that failed) when it exists, else /proc/PID.</summary>
    public string TaskDir { get; }
    /// <summary>The prefix that reaches the process's root from here: /proc/PID/root, or "" when it is gone.</summary>
    public string RootPrefix { get; }
    /// <summary>
    /// The task's credentials: as captured at the failure, else live. For a process that is gone with nothing captured,
    /// what the event holds (real and effective uid and gid), the rest guessed: reading them is then noted in
    /// <see cref="Lost"/>.
    /// </summary>
    public Credentials Creds
    {
        get
        {
            if (Guessing) NoteLost("its credentials beyond the event's user and group ids (fs ids, supplementary groups, capabilities)");
            return creds;
        }
    }
    private readonly Credentials creds;

    /// <summary>Gone, and nothing was captured at the failure: root, credentials and mounts are this machine's and the event's.</summary>
    private bool Guessing => !Alive && Context is null;

    /// <summary>The fact <see cref="Lost"/> names when an absolute path was walked from this machine's root instead of the process's.</summary>
    public const string LostRoot = "the process's root directory";
    /// <summary>The working directory in the process's own view (inside its root), or null.</summary>
    public string? Cwd { get; }
    /// <summary>The working directory has been removed (it has no name any more; the path is its old one).</summary>
    public bool CwdDeleted { get; }
    /// <summary>The process's root as this machine sees it ("/" unless chrooted), or null.</summary>
    public string? RootLink { get; }
    public string? Comm { get; }

    /// <summary>What the rules looked at, for the "unknown" explanation when none of them found a cause.</summary>
    public List<string> Checked { get; } = [];

    public ProcessView(SyscallEvent ev) : this(ev.Pid, ev.Tid, ev) { }

    public ProcessView(int pid, int tid = 0) : this(pid, tid, null) { }

    private ProcessView(int pid, int tid, SyscallEvent? ev)
    {
        Pid = pid;
        Tid = tid > 0 ? tid : pid;
        ProcDir = $"/proc/{pid}";
        // A process that has exited but is not reaped yet (a zombie, or one tearing down) still has
        // /proc/PID, but no root, cwd, descriptors or mounts: for explanations it is gone.
        Alive = pid > 0 && Directory.Exists(ProcDir) && !Exiting(ProcDir);
        if (Alive && ev is { TimestampNs: > 0 } && StartedAfter(pid, ev.TimestampNs))
        {
            Alive = false;
            PidReused = true;
        }
        TaskDir = Alive && Tid != pid && Directory.Exists($"{ProcDir}/task/{Tid}") ? $"{ProcDir}/task/{Tid}" : ProcDir;
        RootPrefix = Alive ? $"{ProcDir}/root" : "";
        Comm = Alive ? ProcFs.Comm(pid) : ev?.Comm;

        var live = Alive ? Credentials.FromStatus(ProcFs.Read($"{TaskDir}/status") ?? "") : null;
        Context = ev?.Context;
        connectedNetNs = ev?.ConnectedNetNs ?? 0;
        creds = Context is { } ctx ? FromContext(ctx, live) : MergeCredentials(live, ev);
        if (Alive)
        {
            RootLink = Native.ReadLink($"{TaskDir}/root");
            var cwd = Native.ReadLink($"{TaskDir}/cwd");
            if (cwd != null && cwd.EndsWith(" (deleted)", StringComparison.Ordinal))
            {
                CwdDeleted = true;
                cwd = cwd[..^10];
            }
            Cwd = cwd is null ? null : InOwnRoot(cwd);
        }
        if (Context is { } c)
            (RootPrefix, Cwd, CwdDeleted) = PlaceFromContext(c, RootPrefix, Cwd, CwdDeleted);
        else
            cwdHost = Alive ? $"{TaskDir}/cwd" : null;
    }

    // /proc/PID/stat field 22 is the start time in clock ticks (USER_HZ = 100) of CLOCK_BOOTTIME; the event's
    // timestamp is CLOCK_MONOTONIC (bpf_ktime_get_ns), which lags CLOCK_BOOTTIME by the time spent suspended.
    private static bool Exiting(string procDir)
    {
        try
        {
            var stat = File.ReadAllText($"{procDir}/stat");
            int close = stat.LastIndexOf(')');
            if (close > 0 && close + 2 < stat.Length && stat[close + 2] is 'Z' or 'X') return true;
            return !Directory.Exists($"{procDir}/root/");
        }
        catch (IOException) { return true; }
        catch (UnauthorizedAccessException) { return false; }
    }

    /// <summary>Process <paramref name="pid"/> started after the event (its start time, floored to a tick, is later): the pid is a new process.</summary>
    internal static bool StartedAfter(int pid, ulong eventMonotonicNs)
    {
        var f = ProcFs.StatFields(pid);
        if (f is not { Length: >= 20 } || !long.TryParse(f[19], out var ticks)) return false;
        long startNs = ticks * 10_000_000;
        long eventBootNs = (long)eventMonotonicNs + Native.SuspendedNs();
        return startNs > eventBootNs + 20_000_000;
    }

    // The event's ids are what the call ran with; the live status adds fs ids, groups and capabilities.
    private static Credentials MergeCredentials(Credentials? live, SyscallEvent? ev)
    {
        if (live is null)
        {
            uint uid = ev?.Uid ?? 0, euid = ev?.Euid ?? 0, gid = ev?.Gid ?? 0, egid = ev?.Egid ?? 0;
            ulong caps = euid == 0 ? 0x1FF_FFFF_FFFFUL : 0;
            return new Credentials(uid, euid, euid, euid, gid, egid, egid, egid, [], caps, caps, caps, false, 0, false);
        }
        if (ev is null) return live;
        var c = live;
        if (ev.Euid != live.Euid) c = c with { Uid = ev.Uid, Euid = ev.Euid, Fsuid = ev.Euid };
        if (ev.Egid != live.Egid) c = c with { Gid = ev.Gid, Egid = ev.Egid, Fsgid = ev.Egid };
        return c;
    }

    /// <summary>Turns a path as this machine sees it (a /proc link target) into the process's own view.</summary>
    public string InOwnRoot(string path)
    {
        if (RootLink is null or "/" || !path.StartsWith('/')) return path;
        if (path == RootLink) return "/";
        return path.StartsWith(RootLink + "/", StringComparison.Ordinal) ? path[RootLink.Length..] : path;
    }

    /// <summary>Where this machine reaches an absolute path of the process's view.</summary>
    public string HostPath(string processPath) => RootPrefix + (processPath.StartsWith('/') ? processPath : "/" + processPath);

    // ---- mounts ----

    private List<MountEntry>? mounts;

    /// <summary>
    /// The process's mount table (/proc/PID/mountinfo; mount points relative to its root); this analyser's once the
    /// process is gone (noted in <see cref="Lost"/> when nothing was captured to place its root).
    /// </summary>
    public IReadOnlyList<MountEntry> Mounts
    {
        get
        {
            if (Guessing) NoteLost("its mounts");
            return mounts ??= MountEntry.ParseAll(ProcFs.Read($"{(Alive ? ProcDir : "/proc/self")}/mountinfo") ?? "");
        }
    }

    public MountEntry? MountById(ulong id)
    {
        if (id == 0) return null;
        foreach (var m in Mounts) if ((ulong)m.Id == id) return m;
        return null;
    }

    /// <summary>The mount an absolute path (process view) is on, by the longest mount-point prefix (last mounted wins).</summary>
    public MountEntry? MountFor(string path)
    {
        if (!path.StartsWith('/')) return null;
        MountEntry? best = null;
        foreach (var m in Mounts)
        {
            var mp = m.MountPoint;
            bool under = mp == "/" || path == mp || path.StartsWith(mp + "/", StringComparison.Ordinal);
            if (under && (best is null || mp.Length >= best.MountPoint.Length)) best = m;
        }
        return best;
    }

    /// <summary>The mount a descriptor's file is on (fdinfo mnt_id).</summary>
    public MountEntry? MountOf(FdInfo fd) => MountById((ulong)fd.MountId);

    // ---- descriptors ----

    /// <summary>Descriptor <paramref name="fd"/> of the process now, or null when it is not open (or the process is gone).</summary>
    public FdInfo? Fd(int fd)
    {
        if (fd < 0) return null;
        if (FdKnown(fd))
        {
            // As it was at the failure; the live entry (with its fdinfo lines) when it is still the same file.
            var then = FdFromContext(fd);
            if (then is null || !Alive) return then;
            return StatFdLive(fd, out var st) && SameFile(Context!.File(fd)!, st) ? LiveFd(fd) ?? then : then;
        }
        if (!Alive)
        {
            NoteLost($"descriptor {fd}");
            return null;
        }
        return LiveFd(fd);
    }

    private FdInfo? LiveFd(int fd)
    {
        var target = Native.ReadLink($"{TaskDir}/fd/{fd}");
        if (target is null) return null;
        return FdInfo.Parse(fd, target, ProcFs.Read($"{TaskDir}/fdinfo/{fd}"));
    }

    /// <summary>The numbers of all open descriptors (empty when gone).</summary>
    public IReadOnlyList<int> FdNumbers()
    {
        if (!Alive) return [];
        try
        {
            return Directory.EnumerateFileSystemEntries($"{TaskDir}/fd")
                .Select(e => int.TryParse(Path.GetFileName(e), out var n) ? n : -1).Where(n => n >= 0).Order().ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return []; }
    }

    /// <summary>stat of the file behind a descriptor (follows the /proc magic link).</summary>
    public bool StatFd(int fd, out FileStat st)
    {
        if (Context?.File(fd) is { } f)
        {
            if (!f.Open) { st = default; return false; }
            if (Alive && StatFdLive(fd, out st) && SameFile(f, st)) return true;
            // Gone (or its descriptor closed since): the same file, still at its path, gives what the capture lacks
            // (its size). Only with the root whyfail sees, and only if it is the very file (device and inode).
            if (f.Path is { } path && Context.Root?.Path is null or "/" && Native.Stat(path, out st, follow: true) == 0 &&
                (SameFile(f, st) || SameOverlayEntry(f, st)))
                return true;
            st = StatOf(f);
            return true;
        }
        if (!Alive)
        {
            NoteLost($"descriptor {fd}");
            st = default;
            return false;
        }
        return StatFdLive(fd, out st);
    }

    /// <summary>
    /// On overlayfs, stat shows a file's real (upper or lower) device and inode while the kernel's open file has the
    /// overlay's: the same path on the same mount is the closest identity there is.
    /// </summary>
    private static bool SameOverlayEntry(ContextFile f, in FileStat st) =>
        f.FsType == "overlay" && f.MountId > 0 && st.MountId == (ulong)f.MountId;

    private bool StatFdLive(int fd, out FileStat st) => Native.Stat($"{TaskDir}/fd/{fd}", out st, follow: true) == 0;

    /// <summary>A descriptor's target in the process's view ("/srv/x", "socket:[123]", "pipe:[9]", "anon_inode:…").</summary>
    public string FdTarget(FdInfo fd) => InOwnRoot(fd.Target);

    // ---- limits ----

    private Dictionary<string, ResourceLimit>? limits;

    /// <summary>A limit of /proc/PID/limits by its name there ("Max open files", "Max processes", …), or null.</summary>
    public ResourceLimit? Limit(string name)
    {
        if (Context is { } c && c.Limits.TryGetValue(name, out var then)) return new ResourceLimit(name, then.Soft, then.Hard, "");
        limits ??= Alive ? ResourceLimit.ParseAll(ProcFs.Read($"{ProcDir}/limits") ?? "") : [];
        if (limits.TryGetValue(name, out var l)) return l;
        if (!Alive) NoteLost($"the limit \"{name}\"");
        return null;
    }

    // ---- users and groups (names as the process's /etc sees them) ----

    private Dictionary<uint, string>? users, groups;

    public string UserName(uint uid) => Names(ref users, "/etc/passwd").TryGetValue(uid, out var n) ? n : "";
    public string GroupName(uint gid) => Names(ref groups, "/etc/group").TryGetValue(gid, out var n) ? n : "";

    /// <summary>"root (uid 0)" or "uid 1234".</summary>
    public string DescribeUser(uint uid) => UserName(uid) is { Length: > 0 } n ? $"{n} (uid {uid})" : $"uid {uid}";
    public string DescribeGroup(uint gid) => GroupName(gid) is { Length: > 0 } n ? $"{n} (gid {gid})" : $"gid {gid}";

    private Dictionary<uint, string> Names(ref Dictionary<uint, string>? cache, string file)
    {
        if (cache != null) return cache;
        cache = [];
        var text = ProcFs.Read(HostPath(file));
        if (text == null) return cache;
        foreach (var line in text.Split('\n'))
        {
            var f = line.Split(':');
            if (f.Length >= 3 && uint.TryParse(f[2], CultureInfo.InvariantCulture, out var id)) cache.TryAdd(id, f[0]);
        }
        return cache;
    }

    // ---- network namespace ----

    /// <summary>The fact <see cref="Lost"/> names when the process's sockets were read in this analyser's namespace by guess (nothing captured).</summary>
    public const string LostNetNs = "its network namespace";
    /// <summary>... when they could not be read at all: the namespace it was in has no process left in it.</summary>
    public const string LostNetNsGone = "the sockets of its network namespace (no process is left in that namespace: it went with it)";

    /// <summary>
    /// Where the process's network namespace is read (/proc/PID/net, /proc/net, or another live process's /proc/VIA/net),
    /// or null when it cannot be: the process is gone and no live process is in the namespace it was in (the namespace
    /// went with it). Rules that read sockets say nothing then rather than answer from another namespace.
    /// </summary>
    public string? NetDir => NetPlace.Dir;

    /// <summary>True when the process is (was) in another network namespace than this analyser.</summary>
    public bool OtherNetNamespace => NetPlace.Other;

    /// <summary>Whose network namespace <see cref="NetDir"/> is, for the rules' wording ("this network namespace", "pid 12's network namespace", …).</summary>
    public string NetNsName => NetPlace switch
    {
        { Other: false } => "this network namespace",
        { Via: var v } when v == Pid || v == 0 => $"pid {Pid}'s network namespace",
        { Via: var v } => $"the network namespace pid {Pid} was in (read through pid {v})",
    };

    /// <summary>Why <see cref="NetDir"/> is null, for what the rules checked.</summary>
    public string NetUnreadable => $"no process is left in the network namespace pid {Pid} was in";

    private readonly uint connectedNetNs;
    private (string? Dir, bool Other, int Via)? netPlace;
    private (string? Dir, bool Other, int Via) NetPlace => netPlace ??= LocateNet();

    /// <summary>Processes looked at for one still in a gone process's network namespace.</summary>
    private const int NetScanMax = 65536;

    private (string? Dir, bool Other, int Via) LocateNet()
    {
        ulong own = NetNsOf("/proc/self");
        if (Alive)
            return ($"{ProcDir}/net", NetNsOf(ProcDir) is var a and not 0 && own != 0 && a != own, Pid);
        // Gone: its namespace is the one the kernel side read at the failure (task->nsproxy->net_ns->ns.inum, the
        // inode number of /proc/PID/ns/net), or for an error delivered as data (no context), the one its connect() ran
        // in. Without either (or 0, a task past exit_task_namespaces) this analyser's namespace is a guess, noted as such.
        uint ns = Context?.NetNs is > 0 and var n ? n : connectedNetNs;
        if (ns == 0)
        {
            NoteLost(LostNetNs);
            return ("/proc/net", false, 0);
        }
        if (own == ns)
            return ("/proc/net", false, 0);
        // Another namespace: /proc/VIA/net of any live process still in it shows the same tables (a namespace lives as
        // long as a process, a bind mount or an open descriptor holds it; only the first can be read through /proc).
        int seen = 0;
        foreach (var pid in ProcFs.Pids())
        {
            if (++seen > NetScanMax) break;
            if (pid != Pid && NetNsOf($"/proc/{pid}") == ns)
                return ($"/proc/{pid}/net", true, pid);
        }
        NoteLost(LostNetNsGone);
        return (null, true, 0);
    }

    /// <summary>The network namespace of the process at <paramref name="procDir"/>: the inode number of its ns/net ("net:[N]"); 0 when unreadable.</summary>
    private static ulong NetNsOf(string procDir) => Native.Stat($"{procDir}/ns/net", out var st, follow: true) == 0 ? st.Ino : 0;
}
