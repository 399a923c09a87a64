namespace Whyfail.Capture;

/// <summary>Where tracefs is: the one place that knows its mount points.</summary>
public static class Tracefs
{
    /// <summary>The standard mount point (Linux 4.1+).</summary>
    public const string Standard = "/sys/kernel/tracing";

    /// <summary>Mount points in order of preference: tracefs itself, then the older one inside debugfs.</summary>
    public static IReadOnlyList<string> Roots { get; } = [Standard, "/sys/kernel/debug/tracing"];

    /// <summary>How to mount it, for messages.</summary>
    public const string MountHint = "mount -t tracefs nodev " + Standard;

    private static string? mounted;

    /// <summary>
    /// The first root where tracefs is mounted (it has events/ or available_events), else the standard one. Found
    /// once and remembered; while none is mounted every access looks again (it may be mounted meanwhile).
    /// </summary>
    public static string Root => (mounted ??= FindMounted()) ?? Standard;

    private static string? FindMounted() =>
        Roots.FirstOrDefault(r => Directory.Exists(Path.Combine(r, "events")) || File.Exists(Path.Combine(r, "available_events")));

    /// <summary><paramref name="name"/> under each root, in order of preference.</summary>
    public static IEnumerable<string> InEachRoot(string name) => Roots.Select(r => Path.Combine(r, name));
}
