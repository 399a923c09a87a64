using System.Diagnostics;
using Whyfail.Analysis.Origin.Kernel;

namespace Whyfail.Analysis.Origin.Source;

/// <summary>A vmlinux with DWARF that matches the running kernel, and how its addresses relate to live ones.</summary>
/// <param name="Slide">The KASLR offset: live address − link address (from kallsyms' and the vmlinux's <c>_text</c>).</param>
public sealed record DebugInfo(string Path, string? BuildId, long Slide, string FoundBy)
{
    public ulong ToLink(ulong live) => unchecked(live - (ulong)Slide);
}

/// <summary>
/// Finds the debug vmlinux of the running kernel: <c>--vmlinux</c>, then the distributions' usual places
/// (Debian/Ubuntu <c>/usr/lib/debug/boot</c>, Fedora/RHEL/SUSE <c>/usr/lib/debug/lib/modules</c>, the
/// build-id tree), then debuginfod (by build id, when <c>DEBUGINFOD_URLS</c> is set and elfutils'
/// debuginfod-find is installed). A file whose build id differs from /sys/kernel/notes is refused,
/// and so is one without DWARF (a stripped /boot/vmlinux).
/// </summary>
public static class DebugInfoLocator
{
    /// <summary>Where the distributions put the debug vmlinux.</summary>
    public static IReadOnlyList<string> Candidates(string release, string? buildId)
    {
        var list = new List<string>
        {
            $"/usr/lib/debug/boot/vmlinux-{release}",                 // Debian, Ubuntu (-dbg / -dbgsym)
            $"/usr/lib/debug/lib/modules/{release}/vmlinux",          // Fedora, RHEL, CentOS, SUSE (kernel-debuginfo)
            $"/usr/lib/debug/vmlinux-{release}",
            $"/boot/vmlinux-{release}",                               // own builds, SUSE (often stripped)
            $"/lib/modules/{release}/build/vmlinux",                  // a kernel built in place
        };
        if (buildId is { Length: > 2 })
            list.Add($"/usr/lib/debug/.build-id/{buildId[..2]}/{buildId[2..]}.debug");
        return list;
    }

    /// <summary>
    /// The debug info to use, or null with <paramref name="missing"/> saying plainly what is missing and
    /// which package provides it. <paramref name="explicitPath"/> (--vmlinux) must exist, carry DWARF and match.
    /// </summary>
    public static DebugInfo? Find(string? explicitPath, Kallsyms? kallsyms, out string? missing,
        string? release = null, string? runningBuildId = null, Action<string>? progress = null, bool useDebuginfod = true)
    {
        release ??= KernelBuildId.Release();
        runningBuildId ??= KernelBuildId.FromNotes();
        var refused = new List<string>();
        IEnumerable<string> paths = explicitPath != null ? [explicitPath] : Candidates(release, runningBuildId);
        foreach (var path in paths)
        {
            if (!File.Exists(path))
            {
                if (explicitPath != null) refused.Add($"{path} does not exist");
                continue;
            }
            if (TryOpen(path, kallsyms, runningBuildId, explicitPath != null ? "--vmlinux" : "found", refused) is { } found)
            {
                missing = null;
                return found;
            }
        }
        if (explicitPath == null && useDebuginfod && runningBuildId != null && Debuginfod(runningBuildId, progress, refused) is { } fetched
            && TryOpen(fetched, kallsyms, runningBuildId, "debuginfod", refused) is { } viaDebuginfod)
        {
            missing = null;
            return viaDebuginfod;
        }
        missing = (refused.Count > 0 ? string.Join("; ", refused) : $"no debug vmlinux for {release}")
            + $"; {PackageHint(release)}";
        return null;
    }

    private static DebugInfo? TryOpen(string path, Kallsyms? kallsyms, string? runningBuildId, string foundBy, List<string> refused)
    {
        try
        {
            using var image = ElfImage.Open(path);
            string? id = image.ReadBuildId();
            if (runningBuildId != null && id != null && !string.Equals(id, runningBuildId, StringComparison.OrdinalIgnoreCase))
            {
                refused.Add($"{path} is another kernel build (build id {id}, running {runningBuildId})");
                return null;
            }
            if (!image.HasSection(".debug_info"))
            {
                refused.Add($"{path} has no DWARF (.debug_info)");
                return null;
            }
            long slide = 0;
            if (kallsyms is { AddressesVisible: true } && kallsyms.TryGetAddress("_text", out ulong live) && image.FindSymbol("_text") is { } linked)
                slide = unchecked((long)(live - linked));
            return new DebugInfo(path, id, slide, foundBy);
        }
        catch (KernelAnalysisException e)
        {
            refused.Add(e.Message);
            return null;
        }
    }

    /// <summary>debuginfod-find debuginfo BUILDID (elfutils), when DEBUGINFOD_URLS is set; its progress goes to stderr.</summary>
    private static string? Debuginfod(string buildId, Action<string>? progress, List<string> refused)
    {
        if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("DEBUGINFOD_URLS"))) return null;
        var tool = Symbolizer.FindOnPath("debuginfod-find");
        if (tool == null)
        {
            refused.Add("DEBUGINFOD_URLS is set but debuginfod-find is not installed (Debian: apt-get install debuginfod)");
            return null;
        }
        progress?.Invoke($"asking debuginfod for the kernel's debug info (build id {buildId}; hundreds of MB the first time)");
        try
        {
            var psi = new ProcessStartInfo(tool) { ArgumentList = { "debuginfo", buildId }, RedirectStandardOutput = true, UseShellExecute = false };
            using var p = Process.Start(psi)!;
            string output = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            if (p.ExitCode == 0 && File.Exists(output)) return output;
            refused.Add($"debuginfod has no debug info for build id {buildId}");
        }
        catch (Exception e) when (e is IOException or System.ComponentModel.Win32Exception)
        {
            refused.Add($"debuginfod-find failed: {e.Message}");
        }
        return null;
    }

    /// <summary>The package that provides the debug vmlinux, by distribution (/etc/os-release ID and ID_LIKE).</summary>
    public static string PackageHint(string release, string osRelease = "/etc/os-release")
    {
        string ids = "";
        try
        {
            foreach (var line in File.ReadLines(osRelease))
                if (line.StartsWith("ID=") || line.StartsWith("ID_LIKE=")) ids += " " + line[(line.IndexOf('=') + 1)..].Trim('"');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        foreach (var (id, hint) in PackageHints)
            if (ids.Split(' ').Contains(id)) return string.Format(hint, release);
        return string.Format(PackageHints[0].Hint, release) + " (Debian; Fedora/RHEL: kernel-debuginfo)";
    }

    /// <summary>Distribution ID → how to install the debug vmlinux ({0} = release).</summary>
    private static readonly (string Id, string Hint)[] PackageHints =
    [
        ("debian", "install linux-image-{0}-dbg (apt-get install linux-image-{0}-dbg) or pass --vmlinux PATH"),
        ("ubuntu", "install linux-image-{0}-dbgsym from the ddebs archive or pass --vmlinux PATH"),
        ("fedora", "install kernel-debuginfo (dnf debuginfo-install kernel-{0}) or pass --vmlinux PATH"),
        ("rhel", "install kernel-debuginfo (dnf debuginfo-install kernel-{0}) or pass --vmlinux PATH"),
        ("suse", "install kernel-default-debuginfo (zypper install kernel-default-debuginfo) or pass --vmlinux PATH"),
    ];
}
