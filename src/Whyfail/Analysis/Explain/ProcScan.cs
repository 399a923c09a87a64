namespace Whyfail.Analysis.Explain;

/// <summary>Scans every process's /proc entries for who uses a file or a mount (read-only; nothing is stopped).</summary>
internal static class ProcScan
{
    /// <summary>One use of a file or mount by a process.</summary>
    public sealed record Use(int Pid, string What, string Path, int Fd = -1, FdInfo? Info = null);

    /// <summary>Descriptors of any process that refer to the same file (device and inode) as <paramref name="file"/>.</summary>
    public static List<Use> OpenersOf(in FileStat file)
    {
        var r = new List<Use>();
        foreach (var pid in ProcFs.Pids())
            foreach (var (fd, target) in ProcFs.FdLinks(pid))
            {
                if (!target.StartsWith('/')) continue;
                if (Native.Stat($"/proc/{pid}/fd/{fd}", out var st, follow: true) != 0 || !st.SameFile(file)) continue;
                var info = FdInfo.Parse(fd, target, ProcFs.Read($"/proc/{pid}/fdinfo/{fd}"));
                r.Add(new Use(pid, "fd", target, fd, info));
            }
        return r;
    }

    /// <summary>Processes whose executable (/proc/PID/exe) is <paramref name="file"/>.</summary>
    public static List<int> Executing(in FileStat file)
    {
        var r = new List<int>();
        foreach (var pid in ProcFs.Pids())
            if (Native.Stat($"/proc/{pid}/exe", out var st, follow: true) == 0 && st.SameFile(file)) r.Add(pid);
        return r;
    }

    /// <summary>
    /// Everything that keeps mount <paramref name="mountId"/> busy: working directories, roots, executables, open
    /// descriptors and memory-mapped files of every process (at most <paramref name="max"/> uses).
    /// </summary>
    public static List<Use> UsersOfMount(ulong mountId, int max = 50)
    {
        var r = new List<Use>();
        foreach (var pid in ProcFs.Pids())
        {
            foreach (var (link, what) in new[] { ("cwd", "its working directory"), ("root", "its root directory"), ("exe", "its program") })
                if (Native.Stat($"/proc/{pid}/{link}", out var st, true) == 0 && st.MountId == mountId)
                    r.Add(new Use(pid, what, Native.ReadLink($"/proc/{pid}/{link}") ?? "?"));
            foreach (var (fd, target) in ProcFs.FdLinks(pid))
                if (Native.Stat($"/proc/{pid}/fd/{fd}", out var st, true) == 0 && st.MountId == mountId)
                    r.Add(new Use(pid, "fd", target, fd));
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var entry in MapFiles(pid))
                if (seen.Add(entry.Target) && Native.Stat(entry.Link, out var st, true) == 0 && st.MountId == mountId)
                    r.Add(new Use(pid, "a memory-mapped file", entry.Target));
            if (r.Count >= max) break;
        }
        return r;
    }

    private static IEnumerable<(string Link, string Target)> MapFiles(int pid)
    {
        List<string> entries;
        try { entries = Directory.EnumerateFileSystemEntries($"/proc/{pid}/map_files").ToList(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { yield break; }
        foreach (var e in entries)
            if (Native.ReadLink(e) is { } t) yield return (e, t);
    }

    /// <summary>"pid 12 (bash)" with the use: "has its working directory there (/mnt/x)".</summary>
    public static string Describe(Use u) => u.What switch
    {
        "fd" => $"{ProcFs.Who(u.Pid)} has {Words.Q(u.Path)} open as descriptor {u.Fd}",
        _ => $"{ProcFs.Who(u.Pid)} has {u.What} there ({Words.Q(u.Path)})",
    };
}
