using System.Diagnostics;
using Whyfail.Capture.Native;
using Whyfail.Events;

namespace Whyfail.Analysis.Cgroups;

/// <summary>
/// Turns the kernel's cgroup id (bpf_get_current_cgroup_id(): the inode of the cgroup v2 directory) into its
/// path by scanning the cgroup v2 hierarchy, and says what the path names (<see cref="ContainerNames"/>).
/// The map is rebuilt by each scan, so it holds the cgroups that exist (removed ones are evicted); an unknown
/// id triggers a rescan at most once a second, so a flood from a cgroup already gone costs nothing more.
/// </summary>
public sealed unsafe class CgroupResolver(string? root = null)
{
    private readonly string? _root = root ?? FindRoot();
    private Dictionary<ulong, CgroupInfo> _byId = [];
    private readonly Stopwatch _sinceScan = new();

    /// <summary>The cgroup v2 mount: /sys/fs/cgroup (unified), or /sys/fs/cgroup/unified (hybrid); null without one.</summary>
    private static string? FindRoot() =>
        new[] { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" }.FirstOrDefault(d => File.Exists(Path.Combine(d, "cgroup.controllers")));

    public CgroupInfo? Resolve(ulong id)
    {
        if (id == 0 || _root == null) return null;
        if (_byId.TryGetValue(id, out var info)) return info;
        if (_sinceScan.IsRunning && _sinceScan.ElapsedMilliseconds < 1000) return null;
        Scan();
        return _byId.GetValueOrDefault(id);
    }

    private void Scan()
    {
        var map = new Dictionary<ulong, CgroupInfo>();
        var pending = new Stack<string>();
        pending.Push(_root!);
        while (pending.Count > 0)
        {
            string dir = pending.Pop();
            Libc.Stat st;
            if (Libc.Lstat(dir, &st) != 0) continue; // removed while we walked
            string rel = dir.Length == _root!.Length ? "/" : dir[_root.Length..];
            // The previous scan's answer when the path is the same: no new strings or matches for known cgroups.
            map[st.Ino] = _byId.TryGetValue(st.Ino, out var known) && known.Path == rel ? known : ContainerNames.Describe(rel);
            try
            {
                foreach (var sub in Directory.EnumerateDirectories(dir))
                    pending.Push(sub);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        _byId = map;
        _sinceScan.Restart();
    }
}
