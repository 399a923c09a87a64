using System.Text;
using Whyfail.Capture.Native;

namespace Whyfail.Analysis.Explain;

/// <summary>How a path walk ended.</summary>
public enum WalkOutcome
{
    /// <summary>Every component resolved.</summary>
    Ok,
    /// <summary>The path is the empty string.</summary>
    Empty,
    /// <summary><see cref="PathWalkResult.FailedAt"/> does not exist.</summary>
    Missing,
    /// <summary><see cref="PathWalkResult.FailedAt"/> is not a directory but the path continues after it (or ends in '/').</summary>
    NotDirectory,
    /// <summary>The credentials may not search (x) the directory <see cref="PathWalkResult.FailedAt"/>.</summary>
    SearchDenied,
    /// <summary>More than 40 symbolic links were followed (ELOOP).</summary>
    Loop,
    /// <summary>A component is longer than NAME_MAX (255 bytes) or the whole path reaches PATH_MAX (4096).</summary>
    NameTooLong,
    /// <summary>The directory descriptor the path is relative to is not open.</summary>
    BadDirfd,
    /// <summary>The start could not be determined (relative path of a process that is gone).</summary>
    Unresolvable,
    /// <summary>Looking a component up failed with another errno (see <see cref="PathComponent.Errno"/>).</summary>
    Error,
}

/// <summary>One step of a path walk: a component as the process sees it.</summary>
public sealed class PathComponent
{
    /// <summary>The name as written in the path (or in a symlink target); for the start, the start directory.</summary>
    public required string Name { get; init; }
    /// <summary>The path in the process's view (resolved prefix + name).</summary>
    public required string Path { get; init; }
    /// <summary>Where this machine (the analyser) reaches it: /proc/PID/root/…, /proc/PID/cwd/…, /proc/PID/fd/N/….</summary>
    public required string HostPath { get; init; }
    public bool Exists => Errno == 0;
    /// <summary>0, or the errno lstat gave (ENOENT for a missing component).</summary>
    public int Errno { get; init; }
    public FileStat Stat { get; init; }
    public FileKind Kind => Exists ? Stat.Kind : FileKind.Unknown;
    public uint Mode => Stat.Mode;
    public uint Uid => Stat.Uid;
    public uint Gid => Stat.Gid;
    /// <summary>The POSIX access ACL (system.posix_acl_access), when the file has one.</summary>
    public IReadOnlyList<AclEntry>? Acl { get; init; }
    public bool HasAcl => Acl != null;
    /// <summary>The mount it is on (by statx mount id), when known.</summary>
    public MountEntry? Mount { get; init; }
    /// <summary>For a symbolic link: its target text.</summary>
    public string? LinkTarget { get; init; }
    /// <summary>When this component came from following a symbolic link: that link's path.</summary>
    public string? FromLink { get; init; }
    /// <summary>True for the directory the walk starts in (the root, the cwd or the dirfd).</summary>
    public bool IsStart { get; init; }
    /// <summary>The directory this component was looked up in (null for a start).</summary>
    public PathComponent? Dir { get; internal set; }
    /// <summary>The search (x) check made on this directory before looking up the next component.</summary>
    public PermCheck? Search { get; internal set; }
}

/// <summary>The result of <see cref="ProcessView.PathWalk"/>.</summary>
public sealed class PathWalkResult
{
    public required string Input { get; init; }
    public WalkOutcome Outcome { get; internal set; }
    public List<PathComponent> Components { get; } = [];
    /// <summary>The component where the walk stopped (missing, not a directory, not searchable, the link that looped).</summary>
    public PathComponent? FailedAt { get; internal set; }
    /// <summary>The final component (existing or missing) when the walk got as far as the last name, else null.</summary>
    public PathComponent? Target { get; internal set; }
    /// <summary>The directory the last lookup happened in (the parent of <see cref="Target"/>, or of <see cref="FailedAt"/>).</summary>
    public PathComponent? TargetDir { get; internal set; }
    /// <summary>Every symbolic link followed, in order: (link path, target text).</summary>
    public List<(string Link, string Target)> Links { get; } = [];
    /// <summary>Extra words for Outcome Error/Unresolvable/BadDirfd/NameTooLong.</summary>
    public string? Detail { get; internal set; }
    /// <summary>The path ended in '/' (or "/.") so the final component must be a directory.</summary>
    public bool MustBeDirectory { get; internal set; }
    public bool Ok => Outcome == WalkOutcome.Ok;
    public bool TargetMissing => Target is { Exists: false };
}

public sealed partial class ProcessView
{
    public const int AT_FDCWD = Libc.AT_FDCWD, MAXSYMLINKS = 40, NAME_MAX = 255, PATH_MAX = 4096;

    /// <summary>
    /// Resolves <paramref name="path"/> the way the kernel would for this process, component by component:
    /// relative to its cwd (or to <paramref name="dirfd"/>), absolute paths inside its root, symbolic links
    /// followed with their absolute targets inside its root, and each directory checked for search permission
    /// with <paramref name="creds"/> (default: the process's credentials). Stops at the first failure.
    /// </summary>
    /// <param name="followFinal">Follow a symbolic link in the last component (false for lstat, unlink, O_NOFOLLOW, …).</param>
    public PathWalkResult PathWalk(string path, int? dirfd = null, bool followFinal = true, Credentials? creds = null)
    {
        creds ??= Creds;
        var key = (path, dirfd, followFinal, creds);
        if (walks.TryGetValue(key, out var cached)) return cached;
        var result = Walk(path, dirfd, followFinal, creds);
        walks[key] = result;
        return result;
    }

    private readonly Dictionary<(string, int?, bool, Credentials), PathWalkResult> walks = [];

    /// <summary>
    /// Walks <paramref name="path"/> as the kernel's path lookup would for <paramref name="creds"/>: the input's
    /// length, the start (root, cwd or directory descriptor), then each component in turn (search permission,
    /// "..", NAME_MAX, existence, symbolic links), stopping at the first that fails.
    /// </summary>
    private PathWalkResult Walk(string path, int? dirfd, bool followFinal, Credentials creds)
    {
        var r = new PathWalkResult { Input = path };
        var w = new WalkPos(this);
        if (!InputAccepted(path, r) || !PlacedStart(path, dirfd, w, r)) return r;
        var cur = w.MakeStart(null);
        r.Components.Add(cur);
        if (!StartUsable(path, cur, r)) return r;

        var queue = new LinkedList<(string Name, string? From)>();
        foreach (var p in Split(path)) queue.AddLast((p, null));
        r.MustBeDirectory = EndsAsDirectory(path);
        if (queue.Count == 0) { r.Target = cur; r.Outcome = WalkOutcome.Ok; return r; }

        int hops = 0;
        while (queue.Count > 0)
        {
            var (name, from) = queue.First!.Value;
            queue.RemoveFirst();
            bool last = queue.Count == 0;
            r.TargetDir = cur;
            if (!Searchable(cur, creds, r)) return r;
            if (name == "..")
            {
                w.Up();
                cur = w.MakeStart(from, "..");
                r.Components.Add(cur);
                if (last) r.Target = cur;
                continue;
            }
            if (!NameFits(name, from, cur, w, r)) return r;

            var child = MakeComponent(name, w.Child(name), w.HostChild(name), from);
            child.Dir = cur;
            r.Components.Add(child);
            if (!Found(path, child, last, r)) return r;
            if (child.Kind == FileKind.Symlink && (!last || followFinal || r.MustBeDirectory))
            {
                if (!Followed(child, last, queue, ref hops, r)) return r;
                if (child.LinkTarget![0] == '/')
                {
                    w.SetRoot();
                    cur = w.MakeStart(child.Path, "/");
                    r.Components.Add(cur);
                }
                if (queue.Count == 0) r.Target = cur; // the link pointed at "/" or "."
                continue;
            }
            w.Push(name);
            cur = child;
            if (last) r.Target = child;
        }

        if (r.MustBeDirectory && cur.Kind != FileKind.Directory) return Ended(r, WalkOutcome.NotDirectory, cur);
        r.Outcome = WalkOutcome.Ok;
        return r;
    }

    /// <summary>
    /// Ends the walk with <paramref name="outcome"/> at <paramref name="at"/>. Returns false, the answer of every step
    /// helper below when the walk cannot go on (each returns true for "go on").
    /// </summary>
    private static bool Stop(PathWalkResult r, WalkOutcome outcome, PathComponent? at = null, string? detail = null)
    {
        Ended(r, outcome, at, detail);
        return false;
    }

    private static PathWalkResult Ended(PathWalkResult r, WalkOutcome outcome, PathComponent? at = null, string? detail = null)
    {
        r.Outcome = outcome;
        if (at is not null) r.FailedAt = at;
        if (detail is not null) r.Detail = detail;
        return r;
    }

    /// <summary>The empty path and one of PATH_MAX bytes or more fail before any lookup; false (with the outcome set) for those.</summary>
    private static bool InputAccepted(string path, PathWalkResult r)
    {
        if (path.Length == 0) return Stop(r, WalkOutcome.Empty);
        int bytes = Encoding.UTF8.GetByteCount(path);
        return bytes < PATH_MAX
            || Stop(r, WalkOutcome.NameTooLong, detail: $"the path is {bytes} bytes long; PATH_MAX is {PATH_MAX} including the terminating NUL");
    }

    /// <summary>
    /// Places the walk at its start: the process's root for an absolute path, its cwd or the directory of
    /// <paramref name="dirfd"/> for a relative one. False (with the outcome set) when that start cannot be reached.
    /// </summary>
    private bool PlacedStart(string path, int? dirfd, WalkPos w, PathWalkResult r)
    {
        if (path[0] == '/')
        {
            if (RootUnresolvable is { } why)
            {
                NoteLost(LostRoot);
                return Stop(r, WalkOutcome.Unresolvable, detail: $"\"{path}\" cannot be checked: {why}");
            }
            // Gone with nothing captured: walked from this machine's root, which may not have been the process's.
            if (Guessing) NoteLost(LostRoot);
            w.SetRoot();
            return true;
        }
        if (dirfd is null or AT_FDCWD)
        {
            if (cwdHost is null || Cwd is null)
            {
                NoteLost("the process's working directory");
                return Stop(r, WalkOutcome.Unresolvable, detail: cwdUnresolvable is { } why
                    ? $"\"{path}\" is relative and {why}"
                    : $"\"{path}\" is relative and the working directory of pid {Pid} is unknown (the process is gone)");
            }
            w.SetBase(cwdHost, Cwd);
            return true;
        }
        var fd = Fd(dirfd.Value);
        if (fd is null)
            return Stop(r, WalkOutcome.BadDirfd, detail: $"\"{path}\" is relative to descriptor {dirfd}, which is not open in pid {Pid} now");
        if (FdHostPath(dirfd.Value) is not { } dirHost)
        {
            NoteLost($"the directory of descriptor {dirfd}");
            return Stop(r, WalkOutcome.Unresolvable,
                detail: $"\"{path}\" is relative to descriptor {dirfd} ({InOwnRoot(fd.Target)}), which this machine cannot reach now (pid {Pid} has exited)");
        }
        w.SetBase(dirHost, InOwnRoot(fd.Target));
        return true;
    }

    /// <summary>The start exists and is a directory; false (with the outcome set) otherwise.</summary>
    private bool StartUsable(string path, PathComponent start, PathWalkResult r)
    {
        if (start.Exists) return true;
        // It was alive when the event arrived and exited since: its root and cwd are gone with it.
        if (Alive && !Directory.Exists(TaskDir))
            return Stop(r, WalkOutcome.Unresolvable, detail: $"pid {Pid} exited before \"{path}\" could be checked from its root and working directory");
        return start.Errno == Errnos.ENOTDIR
            ? Stop(r, WalkOutcome.NotDirectory, start, $"the start \"{start.Path}\" is not a directory")
            : Stop(r, WalkOutcome.Error, start, $"the start \"{start.Path}\" could not be examined ({Errnos.Name(start.Errno)})");
    }

    /// <summary>The walk may continue into <paramref name="dir"/>: a directory the credentials may search.</summary>
    private static bool Searchable(PathComponent dir, Credentials creds, PathWalkResult r)
    {
        if (dir.Kind != FileKind.Directory) return Stop(r, WalkOutcome.NotDirectory, dir);
        dir.Search = Permissions.Check(creds, dir.Stat, Access.Exec, dir.Acl);
        return dir.Search.Allowed || Stop(r, WalkOutcome.SearchDenied, dir);
    }

    /// <summary>The component fits NAME_MAX bytes; false (with the outcome set: ENAMETOOLONG) when it does not.</summary>
    private static bool NameFits(string name, string? from, PathComponent dir, WalkPos w, PathWalkResult r)
    {
        int bytes = Encoding.UTF8.GetByteCount(name);
        if (bytes <= NAME_MAX) return true;
        var tooLong = new PathComponent { Name = name, Path = w.Child(name), HostPath = w.HostChild(name), Errno = Errnos.ENAMETOOLONG, FromLink = from, Dir = dir };
        r.Components.Add(tooLong);
        return Stop(r, WalkOutcome.NameTooLong, tooLong, $"a component is {bytes} bytes long; NAME_MAX is {NAME_MAX}");
    }

    /// <summary>The component exists; false (with the outcome set) when it does not or could not be examined.</summary>
    private bool Found(string path, PathComponent child, bool last, PathWalkResult r)
    {
        if (child.Exists) return true;
        // It exited while its root or cwd was being walked: /proc/PID/root now resolves nowhere.
        if (Alive && !Directory.Exists($"{ProcDir}/root/"))
            return Stop(r, WalkOutcome.Unresolvable, detail: $"pid {Pid} exited while \"{path}\" was being checked from its root and working directory");
        if (last) r.Target = child;
        return child.Errno == Errnos.ENOENT
            ? Stop(r, WalkOutcome.Missing, child)
            : Stop(r, WalkOutcome.Error, child, $"\"{child.Path}\" could not be examined ({Errnos.Name(child.Errno)})");
    }

    /// <summary>
    /// Queues the target of the symbolic link <paramref name="link"/> in place of it; false (with the outcome set)
    /// after MAXSYMLINKS links or for an empty target.
    /// </summary>
    private static bool Followed(PathComponent link, bool last, LinkedList<(string Name, string? From)> queue, ref int hops, PathWalkResult r)
    {
        hops++;
        var target = link.LinkTarget ?? "";
        r.Links.Add((link.Path, target));
        if (hops > MAXSYMLINKS) return Stop(r, WalkOutcome.Loop, link);
        if (target.Length == 0) return Stop(r, WalkOutcome.Missing, link, $"\"{link.Path}\" is a symbolic link with an empty target");
        var parts = Split(target);
        for (int i = parts.Count - 1; i >= 0; i--) queue.AddFirst((parts[i], link.Path));
        if (last && EndsAsDirectory(target)) r.MustBeDirectory = true;
        return true;
    }

    internal PathComponent MakeComponent(string name, string display, string host, string? from, bool isStart = false, bool follow = false)
    {
        int err = Native.Stat(host, out var st, follow);
        if (err != 0) return new PathComponent { Name = name, Path = display, HostPath = host, Errno = err, FromLink = from, IsStart = isStart };
        var acl = Permissions.AclOf(host, st);
        return new PathComponent
        {
            Name = name, Path = display, HostPath = host, Stat = st, Acl = acl, FromLink = from, IsStart = isStart,
            Mount = MountById(st.MountId) ?? MountFor(display),
            LinkTarget = st.Kind == FileKind.Symlink ? Native.ReadLink(host) : null,
        };
    }

    private static List<string> Split(string path)
    {
        var r = new List<string>();
        foreach (var p in path.Split('/'))
            if (p.Length > 0 && p != ".") r.Add(p);
        return r;
    }

    private static bool EndsAsDirectory(string path)
    {
        var t = path.TrimEnd('/');
        return (path.EndsWith('/') && t.Length > 0) || t.EndsWith("/.", StringComparison.Ordinal) || t == "." || t.EndsWith("/..", StringComparison.Ordinal) || t == "..";
    }

    /// <summary>The current position of a walk: a base directory (root, cwd or dirfd) plus resolved names under it.</summary>
    private sealed class WalkPos(ProcessView pv)
    {
        private string baseHost = "", baseDisplay = "/";
        private bool rootBase = true;
        private readonly List<string> comps = [];

        public void SetRoot() { baseHost = pv.RootPrefix; baseDisplay = "/"; rootBase = true; comps.Clear(); }
        public void SetBase(string host, string display) { baseHost = host; baseDisplay = display; rootBase = false; comps.Clear(); }
        public void Push(string name) => comps.Add(name);

        public string Host => comps.Count == 0 ? baseHost + "/." : baseHost + "/" + string.Join('/', comps);
        public string HostChild(string name) => comps.Count == 0 ? baseHost + "/" + name : Host + "/" + name;
        public string Display => comps.Count == 0 ? baseDisplay : Join(baseDisplay, string.Join('/', comps));
        public string Child(string name) => Join(Display, name);

        private static string Join(string a, string b) => a.EndsWith('/') ? a + b : a + "/" + b;

        public PathComponent MakeStart(string? from, string? name = null) =>
            pv.MakeComponent(name ?? Display, Display, Host, from, isStart: name is null, follow: true);

        public void Up()
        {
            if (comps.Count > 0) { comps.RemoveAt(comps.Count - 1); return; }
            if (rootBase) return; // ".." at the root stays at the root
            // Leave the cwd/dirfd base: when its path names the same directory inside the root, continue from there.
            if (baseDisplay.StartsWith('/') && Native.Stat(pv.RootPrefix + baseDisplay + "/.", out var a, true) == 0 &&
                Native.Stat(baseHost + "/.", out var b, true) == 0 && a.SameFile(b))
            {
                var parts = Split(baseDisplay);
                SetRoot();
                comps.AddRange(parts);
                if (comps.Count > 0) comps.RemoveAt(comps.Count - 1);
                return;
            }
            baseHost += "/..";
            baseDisplay = baseDisplay.TrimEnd('/') is var t && t.LastIndexOf('/') is var i and > 0 ? t[..i] : "/";
        }
    }
}
