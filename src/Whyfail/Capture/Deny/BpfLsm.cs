using System.Runtime.InteropServices;

namespace Whyfail.Capture.Deny;

/// <summary>
/// Whether this kernel runs BPF LSM programs: "bpf" among the active security modules (securityfs's lsm file; read
/// from a private, short-lived mount of securityfs when it is not mounted), and the lockdown mode, for the message.
/// Whether the kernel then accepts the programs is known only by loading them (<see cref="DenyEnforcer.Load"/>).
/// </summary>
public sealed record BpfLsm(IReadOnlyList<string>? ActiveLsms, string? Lockdown, string? Unavailable)
{
    public const string SecurityFs = "/sys/kernel/security";

    /// <summary>Why there is no second way: said wherever BPF LSM is missing.</summary>
    public const string NoFallback =
        "whyfail deny has no fallback: fmod_ret programs, the other way a BPF program changes what a kernel function returns " +
        "(on security_* functions and error-injectable ones), run on the same BPF trampolines as LSM programs";

    /// <summary>"active LSMs: lockdown,capability,bpf; lockdown: integrity".</summary>
    public string Describe() =>
        $"active security modules: {(ActiveLsms is { } l ? string.Join(",", l) : "unknown")}; lockdown: {Lockdown ?? "unknown"}";

    public static BpfLsm Read()
    {
        var (lsm, lockdown) = ReadSecurityFs();
        if (!File.Exists(KernelChecks.BtfPath))
            return new(lsm, lockdown, "the kernel has no BTF (/sys/kernel/btf/vmlinux), which BPF LSM programs need");
        if (lsm is null)
            return new(null, lockdown, "the list of active security modules could not be read (securityfs: /sys/kernel/security/lsm)");
        if (!lsm.Contains("bpf"))
            return new(lsm, lockdown, $"the BPF security module is not active (active: {string.Join(",", lsm)}); it is when the kernel is built with CONFIG_BPF_LSM=y " +
                $"and booted with \"bpf\" in lsm= (e.g. lsm={string.Join(",", lsm)},bpf)");
        return new(lsm, lockdown, null);
    }

    private static (IReadOnlyList<string>? Lsm, string? Lockdown) ReadSecurityFs()
    {
        var read = Read(SecurityFs);
        if (read.Lsm != null) return read;
        // Not mounted (a container, a minimal init): look through a private mount of our own, removed at once.
        string? dir = null;
        try
        {
            dir = Directory.CreateTempSubdirectory("whyfail-securityfs-").FullName;
            if (Mounts.mount("securityfs", dir, "securityfs", 0x1 | 0x2 | 0x4 | 0x8 /* RDONLY NOSUID NODEV NOEXEC */, 0) != 0) return read;
            try { return Read(dir); }
            finally { Mounts.umount2(dir, 2 /* MNT_DETACH */); }
        }
        catch (IOException) { return read; }
        finally
        {
            if (dir != null) try { Directory.Delete(dir); } catch (IOException) { }
        }
    }

    private static (IReadOnlyList<string>? Lsm, string? Lockdown) Read(string dir)
    {
        string? lsm = TryRead(Path.Combine(dir, "lsm")), lockdown = TryRead(Path.Combine(dir, "lockdown"));
        string? mode = null;
        if (lockdown != null && lockdown.IndexOf('[') is int a and >= 0 && lockdown.IndexOf(']') is int b && b > a)
            mode = lockdown[(a + 1)..b];
        return (lsm?.Trim().Split(',', StringSplitOptions.RemoveEmptyEntries), mode);
    }

    private static string? TryRead(string path)
    {
        try { return File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }
}

internal static partial class Mounts
{
    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int mount(string source, string target, string fstype, ulong flags, nint data);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int umount2(string target, int flags);
}
