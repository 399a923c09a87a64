using Whyfail.Analysis.Origin.Kernel;

namespace Whyfail.Tests.Source;

/// <summary>
/// The Debian -dbg vmlinux and source files of the lab kernel that runs the tests, as
/// tests/vm/fetch-debuginfo leaves them in the lab cache ($WHYFAIL_LAB_CACHE/debug/RELEASE/).
/// WHYFAIL_DEBUG_RELEASE picks another release (to run the file-only tests on the host against a lab kernel's files).
/// </summary>
public static class LabDebugInfo
{
    public static string Release =>
        Environment.GetEnvironmentVariable("WHYFAIL_DEBUG_RELEASE") is { Length: > 0 } r ? r : KernelBuildId.Release();

    public static string Dir => Path.Combine(Environment.GetEnvironmentVariable("WHYFAIL_LAB_CACHE") is { Length: > 0 } c ? c : "/var/cache/whyfail-lab",
        "debug", Release);

    public static string Vmlinux => Require(Path.Combine(Dir, "vmlinux"));
    public static string SourceDir => Require(Path.Combine(Dir, "src"));

    private static string Require(string path) =>
        File.Exists(path) || Directory.Exists(path) ? path
            : throw new InvalidOperationException($"{path} is missing: run tests/vm/fetch-debuginfo on the host first (test.sh does)");

    /// <summary>
    /// The 1-based number of the first line at or after the line matching <paramref name="anchor"/> (in the
    /// real source file of this kernel version) that contains <paramref name="target"/>.
    /// </summary>
    public static int LineAfter(string file, string anchor, string target)
    {
        var lines = File.ReadAllLines(Path.Combine(SourceDir, file));
        int a = Array.FindIndex(lines, l => l.Contains(anchor, StringComparison.Ordinal));
        if (a < 0) throw new InvalidOperationException($"{anchor} is not in {file}");
        int t = Array.FindIndex(lines, a, l => l.Contains(target, StringComparison.Ordinal));
        if (t < 0) throw new InvalidOperationException($"{target} is not after {anchor} in {file}");
        return t + 1;
    }
}
