using Xunit;

namespace Whyfail.Tests.Integration;

/// <summary>
/// A fact that needs a program installed on this machine (prometheus, lintian, dpkg-deb): skipped, visibly
/// and with the reason in the test report, when it is not on PATH. CI installs them (build.sh --deps).
/// </summary>
public sealed class FactRequiringAttribute : FactAttribute
{
    public FactRequiringAttribute(string program)
    {
        if (Which(program) == null)
            Skip = $"{program} is not installed (./build.sh --deps installs it)";
    }

    public static string? Which(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':')
            .Select(d => Path.Combine(d, program)).FirstOrDefault(File.Exists);
}

/// <summary>A fact that needs a writable cgroup v2 hierarchy (unified, or hybrid's /sys/fs/cgroup/unified).</summary>
public sealed class FactRequiringCgroup2Attribute : FactAttribute
{
    public static readonly string? Root =
        new[] { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" }.FirstOrDefault(d => File.Exists(Path.Combine(d, "cgroup.controllers")));

    public FactRequiringCgroup2Attribute()
    {
        if (Root == null) Skip = "no cgroup v2 hierarchy is mounted";
    }
}

/// <summary>A fact that needs io_uring: skipped when the kernel has it disabled (sysctl kernel.io_uring_disabled = 2).</summary>
public sealed class FactRequiringIoUringAttribute : FactAttribute
{
    public const string Sysctl = "/proc/sys/kernel/io_uring_disabled";

    public FactRequiringIoUringAttribute()
    {
        if (File.Exists(Sysctl) && File.ReadAllText(Sysctl).Trim() == "2")
            Skip = "io_uring is disabled on this kernel (sysctl kernel.io_uring_disabled = 2)";
    }
}

/// <summary>A fact that needs a file system type in the running kernel (/proc/filesystems) and its mkfs program.</summary>
public sealed class FactRequiringFsAttribute : FactAttribute
{
    public FactRequiringFsAttribute(string fsType, string mkfs)
    {
        bool known = File.Exists("/proc/filesystems") &&
            File.ReadAllLines("/proc/filesystems").Any(l => l.Split('\t').LastOrDefault() == fsType);
        if (!known) Skip = $"the running kernel has no {fsType} file system (not in /proc/filesystems)";
        else if (FactRequiringAttribute.Which(mkfs) == null) Skip = $"{mkfs} is not installed (./build.sh --deps installs it)";
    }
}

/// <summary>
/// A fact that changes the machine it runs on (installs a package): only in a lab guest, whose root is a RAM
/// overlay (tests/vm/run sets WHYFAIL_LAB=1); skipped, with the reason, anywhere else.
/// </summary>
public sealed class FactInLabGuestAttribute : FactAttribute
{
    public FactInLabGuestAttribute()
    {
        if (Environment.GetEnvironmentVariable("WHYFAIL_LAB") != "1")
            Skip = "changes the machine (dpkg -i): runs only in a lab guest (tests/vm/run-tests)";
    }
}
