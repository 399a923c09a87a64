using System.Diagnostics;
using System.Text.RegularExpressions;
using Whyfail.Analysis.Origin.Kernel;

namespace Whyfail.Analysis.Origin.Source;

/// <summary>
/// A kernel source tree: a directory (--kernel-src DIR), or a source tarball (--kernel-src FILE, or the
/// distribution's linux-source package of the running kernel's exact version) from which only the
/// files that are needed are extracted, once, into a private cache under /var/cache/whyfail/src, or
/// debuginfod's source lookup (by build id and the path the DWARF recorded; DEBUGINFOD_URLS).
/// Paths come from DWARF; only relative paths without ".." are opened, under the root.
/// </summary>
public sealed partial class KernelSource
{
    public const string CacheRoot = "/var/cache/whyfail/src";

    private readonly Dictionary<string, string[]?> _files = new(StringComparer.Ordinal);
    private readonly string? _tarball, _prefix;
    private readonly Action<string>? _progress;
    private readonly (string BuildId, string Tool, Func<string, string?> DwarfPath)? _debuginfod;

    public KernelSource(string root) => Root = Path.GetFullPath(root);

    private KernelSource(string buildId, string tool, Func<string, string?> dwarfPath, Action<string>? progress)
    {
        (_debuginfod, _progress, Root) = ((buildId, tool, dwarfPath), progress, "");
    }

    /// <summary>
    /// Sources from debuginfod (elfutils' debuginfod-find, which caches what it fetches), when DEBUGINFOD_URLS
    /// is set; else null with why. <paramref name="dwarfPath"/> gives the path the DWARF recorded for a file.
    /// </summary>
    public static KernelSource? Debuginfod(string? buildId, Func<string, string?> dwarfPath, Action<string>? progress, out string? why)
    {
        why = null;
        if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("DEBUGINFOD_URLS"))) return null;
        var tool = Symbolizer.FindOnPath("debuginfod-find");
        if (tool == null || buildId == null)
        {
            why = tool == null ? "DEBUGINFOD_URLS is set but debuginfod-find is not installed (Debian: apt-get install debuginfod)"
                : "the debug vmlinux has no build id to ask debuginfod for its sources";
            return null;
        }
        return new KernelSource(buildId, tool, dwarfPath, progress);
    }

    private KernelSource(string tarball, string prefix, string cache, Action<string>? progress)
    {
        (_tarball, _prefix, _progress, Root) = (tarball, prefix, progress, cache);
    }

    /// <summary>The tree's directory (for a tarball: the cache its files are extracted into).</summary>
    public string Root { get; }

    /// <summary>What it is, for messages.</summary>
    public string Description => _debuginfod is { } d ? $"from debuginfod (build id {d.BuildId}, files fetched on demand)"
        : _tarball != null ? $"{_tarball} (files extracted on demand into {Root})" : Root;

    /// <summary>Lines above and below the error line in a snippet.</summary>
    public const int Context = 3;

    /// <summary>A directory or a tarball (.tar, .tar.xz, .tar.gz, .tar.bz2); null with why when neither works.</summary>
    public static KernelSource? Open(string path, Action<string>? progress, out string? why)
    {
        why = null;
        if (Directory.Exists(path)) return new KernelSource(path);
        var m = TarballName().Match(Path.GetFileName(path));
        if (!File.Exists(path) || !m.Success)
        {
            why = $"{path} is neither a directory nor a .tar(.xz|.gz|.bz2) file";
            return null;
        }
        var info = new FileInfo(path);
        string cache = Path.Combine(CacheRoot, $"{m.Groups[1].Value}-{info.Length}-{info.LastWriteTimeUtc.Ticks}");
        if (SafeDirectory.EnsurePrivate(cache, 0) is { } unsafeWhy)
        {
            why = $"cannot use the source cache: {unsafeWhy}";
            return null;
        }
        return new KernelSource(Path.GetFullPath(path), m.Groups[1].Value, cache, progress);
    }

    /// <summary>
    /// The Debian linux-source tarball of the running kernel (/usr/src/linux-source-X.Y.tar.xz), when the
    /// installed package has exactly the version of the running kernel (/proc/version); else null with why.
    /// </summary>
    public static string? DistributionTarball(string release, out string why, string procVersion = "/proc/version")
    {
        string series = string.Join('.', release.Split('.').Take(2));
        string tarball = $"/usr/src/linux-source-{series}.tar.xz";
        string? running = null;
        try
        {
            running = DebianVersion().Match(File.ReadAllText(procVersion)) is { Success: true } v ? v.Groups[1].Value : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        why = $"no kernel source: --kernel-src DIR, or apt-get install linux-source-{series}{(running != null ? $"={running}" : "")}, shows the code around each error site";
        if (running == null || !File.Exists(tarball)) return null;
        string? installed = PackageVersion($"linux-source-{series}");
        if (installed != running)
        {
            why = $"no kernel source: linux-source-{series} is {installed ?? "not installed"} but the running kernel is {running}";
            return null;
        }
        return tarball;
    }

    private static string? PackageVersion(string package)
    {
        try
        {
            var psi = new ProcessStartInfo("dpkg-query") { ArgumentList = { "-W", "-f=${Version}", package }, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var p = Process.Start(psi)!;
            string v = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            return p.ExitCode == 0 && v.Length > 0 ? v : null;
        }
        catch (Exception e) when (e is IOException or System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    /// <summary>Line <paramref name="line"/> (1-based) of <paramref name="file"/>, or null.</summary>
    public string? Line(string file, int line) =>
        Lines(file) is { } lines && line >= 1 && line <= lines.Length ? lines[line - 1] : null;

    /// <summary>±<see cref="Context"/> lines around <paramref name="line"/>, or null when the file is not there.</summary>
    public Events.SourceSnippet? Snippet(string file, int line)
    {
        if (Lines(file) is not { } lines || line < 1 || line > lines.Length) return null;
        int first = Math.Max(1, line - Context), last = Math.Min(lines.Length, line + Context);
        return new Events.SourceSnippet(file, first, line, lines[(first - 1)..last]);
    }

    private string[]? Lines(string file)
    {
        if (_files.TryGetValue(file, out var cached)) return cached;
        string[]? lines = null;
        if (!Path.IsPathRooted(file) && !file.Split('/').Contains(".."))
        {
            string? path = _debuginfod != null ? Fetch(file) : Path.Combine(Root, file);
            if (_tarball != null && !File.Exists(path)) Extract(file);
            try
            {
                if (path != null) lines = File.ReadAllLines(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        _files[file] = lines;
        return lines;
    }

    /// <summary>tar extracts one member (decompressing the whole archive: seconds) into the private cache.</summary>
    private void Extract(string file)
    {
        _progress?.Invoke($"extracting {file} from {_tarball}");
        try
        {
            var psi = new ProcessStartInfo("tar")
            {
                ArgumentList = { "-x", "-f", _tarball!, "-C", Root, "--strip-components=1", "--no-same-owner", "--no-same-permissions", $"{_prefix}/{file}" },
                RedirectStandardError = true, UseShellExecute = false,
            };
            using var p = Process.Start(psi)!;
            p.StandardError.ReadToEnd();
            p.WaitForExit();
        }
        catch (Exception e) when (e is IOException or System.ComponentModel.Win32Exception)
        {
        }
    }

    /// <summary>
    /// debuginfod-find source BUILDID /PATH: the path as the DWARF recorded it (the client wants it absolute;
    /// a relative compilation directory, as in Debian's reproducible builds, is asked for under "/").
    /// Returns the file in debuginfod's cache, or null.
    /// </summary>
    private string? Fetch(string file)
    {
        var (buildId, tool, dwarfPath) = _debuginfod!.Value;
        string? recorded = dwarfPath(file);
        if (recorded == null) return null;
        string query = recorded.StartsWith('/') ? recorded : "/" + (recorded.StartsWith("./", StringComparison.Ordinal) ? recorded[2..] : recorded);
        _progress?.Invoke($"asking debuginfod for {file}");
        try
        {
            var psi = new ProcessStartInfo(tool) { ArgumentList = { "source", buildId, query }, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var p = Process.Start(psi)!;
            var err = p.StandardError.ReadToEndAsync();
            string output = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            _ = err.Result;
            return p.ExitCode == 0 && output.StartsWith('/') && File.Exists(output) ? output : null;
        }
        catch (Exception e) when (e is IOException or System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    [GeneratedRegex(@"^(.+)\.tar(\.xz|\.gz|\.bz2)?$")]
    private static partial Regex TarballName();

    [GeneratedRegex(@"Debian (\S+)")]
    private static partial Regex DebianVersion();
}
