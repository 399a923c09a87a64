namespace Whyfail.Capture.Deny;

/// <summary>
/// Whether this kernel runs BPF LSM programs: "bpf" among the active security modules (securityfs's lsm file; read
/// from a private, short-lived mount of securityfs when it is not mounted), and the lockdown mode, for the message.
/// Whether the kernel then accepts the programs is known only by loading them (<see cref="DenyEnforcer.Load"/>).
/// </summary>
public sealed record BpfLsm(IReadOnlyList<string>? ActiveLsms, string? Lockdown, string? Unavailable)
{
    /// <summary>Why there is no second way: said wherever BPF LSM is missing.</summary>
    public const string NoFallback =
        "whyfail deny has no fallback: fmod_ret programs, the other way a BPF program changes what a kernel function returns " +
        "(on security_* functions and error-injectable ones), run on the same BPF trampolines as LSM programs";

    /// <summary>"active LSMs: lockdown,capability,bpf; lockdown: integrity".</summary>
    public string Describe() =>
        $"active security modules: {(ActiveLsms is { } l ? string.Join(",", l) : "unknown")}; lockdown: {Lockdown ?? "unknown"}";

    public static BpfLsm Read()
    {
        var (lsm, lockdown) = SecurityFs.Get(mountIfNeeded: true);
        if (!File.Exists(KernelChecks.BtfPath))
            return new(lsm, lockdown, "the kernel has no BTF (/sys/kernel/btf/vmlinux), which BPF LSM programs need");
        if (lsm is null)
            return new(null, lockdown, "the list of active security modules could not be read (securityfs: /sys/kernel/security/lsm)");
        if (!lsm.Contains("bpf"))
            return new(lsm, lockdown, $"the BPF security module is not active (active: {string.Join(",", lsm)}); it is when the kernel is built with CONFIG_BPF_LSM=y " +
                $"and booted with \"bpf\" in lsm= (e.g. lsm={string.Join(",", lsm)},bpf)");
        return new(lsm, lockdown, null);
    }
}
