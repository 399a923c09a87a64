using System.Text;
using Whyfail.Events;
using static Whyfail.Analysis.Explain.Words;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>ENAMETOOLONG: the component longer than NAME_MAX (or the file system's limit), or the path over PATH_MAX.</summary>
public sealed class PathNameTooLong : IExplainRule
{
    public string Id => "path.name_too_long";

    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.ENAMETOOLONG && (SyscallArgs.Paths(ev).Count > 0 || ev.CaptureTruncated);

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        var paths = SyscallArgs.Paths(ev);
        if (paths.Count == 0 && ev.CaptureTruncated)
        {
            yield return new Explanation(Id, $"a path argument was cut short when it was captured (it is at least {ProcessView.PATH_MAX - 1} bytes), so it probably reaches PATH_MAX ({ProcessView.PATH_MAX} bytes including the NUL)", null, false);
            yield break;
        }
        foreach (var pa in paths)
        {
            int len = Encoding.UTF8.GetByteCount(pa.Path);
            proc.Checked.Add($"the length of {Short(pa.Path)} ({len} bytes) and of each component");
            var cap = ev.Capture(pa.Arg);
            if (len >= ProcessView.PATH_MAX - 1 || (ev.CaptureTruncated && cap?.Data?.Length >= ProcessView.PATH_MAX - 1))
            {
                yield return new Explanation(Id,
                    $"the path {Short(pa.Path)} is {(len >= ProcessView.PATH_MAX ? "" : "at least ")}{len} bytes long; paths are limited to PATH_MAX = {ProcessView.PATH_MAX} bytes including the terminating NUL",
                    "use a shorter path, or open a directory on the way and use a relative path with openat()", len >= ProcessView.PATH_MAX);
                continue;
            }
            var w = PathRules.Walk(ev, proc, pa);
            if (w.Outcome == WalkOutcome.NameTooLong && w.FailedAt is { } c)
            {
                int n = Encoding.UTF8.GetByteCount(c.Name);
                yield return new Explanation(Id,
                    $"the component {Short(c.Name)} is {n} bytes long, over NAME_MAX = {ProcessView.NAME_MAX}{PathRules.Via(c)}",
                    "use a shorter file name");
                continue;
            }
            if (PathRules.NoteUnwalkable(proc, w)) continue;
            // The file system may allow less than 255 (eCryptfs: 143, some FUSE file systems).
            var dir = w.TargetDir ?? w.FailedAt?.Dir;
            var name = (w.Target ?? w.FailedAt)?.Name;
            if (dir is { Exists: true } && name != null && Native.StatVfs(dir.HostPath) is { NameMax: > 0 } vfs)
            {
                int n = Encoding.UTF8.GetByteCount(name);
                if ((ulong)n > vfs.NameMax)
                    yield return new Explanation(Id,
                        $"the name {Short(name)} is {n} bytes long and the file system of {Q(dir.Path)} ({dir.Mount?.FsType ?? "?"}) allows names of at most {vfs.NameMax} bytes",
                        "use a shorter file name");
            }
        }
    }

    private static string Short(string s) => s.Length <= 60 ? Q(s) : Q(s[..28] + "…" + s[^28..]);
}
