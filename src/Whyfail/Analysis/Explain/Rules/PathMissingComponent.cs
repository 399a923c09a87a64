using Whyfail.Events;
using static Whyfail.Analysis.Explain.Words;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// ENOENT on a path: the first component that does not exist (with a "did you mean" for a close sibling name),
/// a dangling symbolic link (the link and its target), or a deleted working directory.
/// </summary>
public sealed class PathMissingComponent : IExplainRule
{
    public string Id => "path.missing_component";

    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.ENOENT && SyscallArgs.Paths(ev).Count > 0;

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        var existsNow = new List<string>();
        foreach (var pa in SyscallArgs.Paths(ev))
        {
            var w = PathRules.Walk(ev, proc, pa);
            if (w.Outcome == WalkOutcome.Empty)
            {
                if ((SyscallArgs.Int(ev, EmptyPathFlagsArg(ev.Syscall)) & SyscallArgs.AT_EMPTY_PATH) == 0)
                    yield return new Explanation(Id, $"the path (argument {pa.Arg}) is the empty string, which names nothing (AT_EMPTY_PATH was not given)");
                continue;
            }
            if (PathRules.NoteUnwalkable(proc, w)) continue;
            proc.Checked.Add($"each component of {Q(pa.Path)}");
            if (w.Outcome == WalkOutcome.Ok)
            {
                existsNow.Add(w.Target?.Path ?? pa.Path);
                continue;
            }
            if (w.Outcome != WalkOutcome.Missing || w.FailedAt is not { } miss) continue;
            // The final name of a creating call is supposed to be missing: not the cause (unless its directory is deleted).
            bool dirDeleted = miss.Dir is { Exists: true, Kind: FileKind.Directory } md && md.Stat.Nlink == 0;
            if (miss == w.Target && miss.FromLink is null && PathRules.Creates(ev, pa) && w.Detail is null && !dirDeleted)
                continue;
            yield return Describe(ev, proc, pa, w, miss);
        }
        if (existsNow.Count > 0 && existsNow.Count == SyscallArgs.Paths(ev).Count && ev.Syscall is not ("execve" or "execveat"))
            yield return new Explanation(Id,
                $"{string.Join(" and ", existsNow.Select(Q))} exists now; it probably did not exist at the time of the call (created since)",
                null, false);
    }

    private static int EmptyPathFlagsArg(string sc) => sc switch
    {
        "newfstatat" => 3, "statx" => 2, "fchownat" => 4, "linkat" => 4, "execveat" => 4, "name_to_handle_at" => 4, _ => -1,
    };

    private Explanation Describe(SyscallEvent ev, ProcessView proc, PathArg pa, PathWalkResult w, PathComponent miss)
    {
        var dir = miss.Dir;
        if (w.Detail is { } detail) // empty link target
            return new Explanation(Id, detail);

        // A component reached through a symbolic link: the link dangles.
        if (miss.FromLink is { } link)
        {
            var target = w.Links.LastOrDefault(l => l.Link == link).Target ?? "?";
            var lastName = target.Split('/', StringSplitOptions.RemoveEmptyEntries).LastOrDefault();
            var where = lastName == miss.Name
                ? $"{Q(miss.Path)} does not exist"
                : $"{Q(miss.Path)}, on the way to it, does not exist";
            return new Explanation(Id,
                $"{Q(link)} is a dangling symbolic link: it points to {Q(target)}, and {where}",
                $"create {Sh(miss.Path)}, or re-point the link: ln -sfn NEW_TARGET {Sh(link)}");
        }

        // The directory the lookup happened in has been deleted (still the cwd or an open descriptor).
        if (dir is { Exists: true, Kind: FileKind.Directory } && dir.Stat.Nlink == 0)
        {
            var what = dir.IsStart && pa.Path[0] != '/'
                ? (pa.Dirfd is null or ProcessView.AT_FDCWD ? "the process's working directory" : $"directory descriptor {pa.Dirfd}")
                : "the directory";
            return new Explanation(Id,
                $"{what} {Q(dir.Path)} has been deleted (it has no links left), so nothing can be found or created in it",
                "cd to an existing directory (or reopen it) and retry");
        }

        bool final = miss == w.Target;
        var parent = dir?.Path ?? "/";
        var rest = final ? [] : RestAfter(w, miss);
        string text = final
            ? $"{Q(miss.Path)} does not exist: the directory {Q(parent)} has no entry {Q(miss.Name)}"
            : $"{Q(miss.Path)} does not exist: the directory {Q(parent)} has no entry {Q(miss.Name)}, so {Q(string.Join('/', rest))} cannot be looked up under it";
        if (PathRules.Creates(ev, pa) && !final) text += $" ({ev.Syscall} creates only the last component)";
        string? fix = null;
        if (dir is not null && Suggest(dir, miss.Name) is { } near)
        {
            var nearPath = parent.EndsWith('/') ? parent + near : parent + "/" + near;
            text += $"; did you mean {Q(nearPath)}?";
            fix = $"use {Sh(nearPath)}";
        }
        else if (!final && PathRules.Creates(ev, pa))
        {
            // Only when the call meant to create something there; a lookup that probes for an
            // optional file (locales, configuration search paths) needs no directory made.
            var dirs = rest.Length > 1 ? miss.Path + "/" + string.Join('/', rest[..^1]) : miss.Path;
            fix = $"mkdir -p {Sh(dirs)}";
        }
        return new Explanation(Id, text + PathRules.Via(miss), fix);
    }

    // The names of the input after the missing component: ["c", "d"] for a missing "b" in "a/b/c/d".
    private static string[] RestAfter(PathWalkResult w, PathComponent miss)
    {
        var input = w.Input.Split('/').Where(p => p.Length > 0 && p != ".").ToArray();
        int idx = 0;
        foreach (var c in w.Components)
        {
            if (c == miss) break;
            if (!c.IsStart && c.FromLink is null) idx++;
        }
        return idx + 1 < input.Length ? input[(idx + 1)..] : [];
    }

    /// <summary>The closest sibling name: same name ignoring case, or within a small edit distance.</summary>
    internal static string? Suggest(PathComponent dir, string name)
    {
        var names = PathRules.List(dir, 5_000);
        if (names is null) return null;
        string? best = null;
        int bestD = int.MaxValue;
        int limit = Math.Max(1, Math.Min(3, name.Length / 3));
        foreach (var n in names.Order(StringComparer.Ordinal))
        {
            int d = string.Equals(n, name, StringComparison.OrdinalIgnoreCase) ? 0 : EditDistance(n, name);
            if (d < bestD) { bestD = d; best = n; }
        }
        return bestD <= limit ? best : null;
    }
}
