namespace Whyfail.Analysis.Origin.Source;

/// <summary>Source paths as the kernel tree names them ("fs/namei.c"), whatever build directory the DWARF recorded.</summary>
public static class KernelPaths
{
    /// <summary>The top-level directories of a kernel source tree.</summary>
    public static readonly string[] TopLevel = ["arch", "block", "certs", "crypto", "drivers", "fs", "include", "init", "io_uring",
        "ipc", "kernel", "lib", "mm", "net", "rust", "samples", "security", "sound", "virt"];

    /// <summary>
    /// "debian/build/build_amd64_none_amd64/kernel/events/core.c" or "./include/linux/err.h" →
    /// "kernel/events/core.c", "include/linux/err.h": the path from the leftmost top-level kernel directory.
    /// </summary>
    public static string Relative(string path)
    {
        var parts = path.Split('/');
        for (int i = 0; i < parts.Length - 1; i++)
            if (Array.IndexOf(TopLevel, parts[i]) >= 0)
                return string.Join('/', parts[i..]);
        return path.StartsWith("./", StringComparison.Ordinal) ? path[2..] : path;
    }
}
