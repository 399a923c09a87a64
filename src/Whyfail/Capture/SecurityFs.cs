using Whyfail.Capture.Native;

namespace Whyfail.Capture;

/// <summary>
/// The one reader of securityfs (/sys/kernel/security): the active security modules (its <c>lsm</c> file) and the
/// lockdown mode (its <c>lockdown</c> file). Read once per process. Callers that must know even where securityfs is
/// not mounted (a container, a minimal init) ask with <c>mountIfNeeded</c>: the files are then read through a private,
/// read-only mount of securityfs of our own, detached at once.
/// </summary>
public static class SecurityFs
{
    public const string Root = "/sys/kernel/security";

    /// <summary>What securityfs says; both null when it could not be read.</summary>
    public sealed record Facts(IReadOnlyList<string>? ActiveLsms, string? Lockdown);

    private static readonly Lazy<Facts> Mounted = new(() => Read(Root));
    private static readonly Lazy<Facts> Anyway = new(ReadThroughOwnMount);

    /// <summary>The facts from the mounted securityfs, or (with <paramref name="mountIfNeeded"/>) from a private mount.</summary>
    public static Facts Get(bool mountIfNeeded = false) =>
        Mounted.Value.ActiveLsms is null && mountIfNeeded ? Anyway.Value : Mounted.Value;

    /// <summary>The active security modules in the kernel's order ("lockdown", "capability", "apparmor"…), null when unknown.</summary>
    public static IReadOnlyList<string>? ActiveLsms(bool mountIfNeeded = false) => Get(mountIfNeeded).ActiveLsms;

    /// <summary>The selected lockdown mode ("none", "integrity", "confidentiality"), null when unknown or no lockdown LSM.</summary>
    public static string? LockdownMode(bool mountIfNeeded = false) => Get(mountIfNeeded).Lockdown;

    /// <summary>The facts from securityfs mounted at <paramref name="dir"/> (tests pass a directory of their own).</summary>
    public static Facts Read(string dir)
    {
        string? lsm = TryRead(Path.Combine(dir, "lsm")), lockdown = TryRead(Path.Combine(dir, "lockdown"));
        string? mode = null;
        if (lockdown != null && lockdown.IndexOf('[') is int a and >= 0 && lockdown.IndexOf(']') is int b && b > a)
            mode = lockdown[(a + 1)..b];
        var lsms = lsm?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return new(lsms is { Length: > 0 } ? lsms : null, mode);
    }

    private static Facts ReadThroughOwnMount()
    {
        var read = Mounted.Value;
        string? dir = null;
        try
        {
            dir = Directory.CreateTempSubdirectory("whyfail-securityfs-").FullName;
            if (Libc.Mount("securityfs", dir, "securityfs", Libc.MS_RDONLY | Libc.MS_NOSUID | Libc.MS_NODEV | Libc.MS_NOEXEC, 0) != 0) return read;
            try { return Read(dir); }
            finally { Libc.Umount2(dir, Libc.MNT_DETACH); }
        }
        catch (IOException) { return read; }
        finally
        {
            if (dir != null) try { Directory.Delete(dir); } catch (IOException) { }
        }
    }

    private static string? TryRead(string path)
    {
        try { return File.ReadAllText(path).Trim(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }
}
