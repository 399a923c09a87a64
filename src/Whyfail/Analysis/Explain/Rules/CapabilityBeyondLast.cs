using Whyfail.Decoding;
using Whyfail.Events;
using static Whyfail.Capture.Native.Libc;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// EINVAL from prctl(PR_CAPBSET_READ / PR_CAPBSET_DROP / PR_CAP_AMBIENT, cap): a capability number past the
/// kernel's last one (/proc/sys/kernel/cap_last_cap). libcap and systemd probe upward until this answer to learn
/// how many capabilities the running kernel knows.
/// </summary>
public sealed class CapabilityBeyondLast : IExplainRule
{
    public string Id => "capability.unknown_number";


    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.EINVAL && ev.Syscall == "prctl"
        && SyscallArgs.Int(ev, 0) is PR_CAPBSET_READ or PR_CAPBSET_DROP or PR_CAP_AMBIENT;

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        int cap = SyscallArgs.Int(ev, SyscallArgs.Int(ev, 0) == PR_CAP_AMBIENT ? 2 : 1);
        var last = ProcFs.ReadLong("/proc/sys/kernel/cap_last_cap");
        proc.Checked.Add("the capability number against /proc/sys/kernel/cap_last_cap");
        if (last is not { } l || cap <= l) yield break;
        bool probe = SyscallArgs.Int(ev, 0) == PR_CAPBSET_READ;
        yield return new Explanation(Id,
            $"capability {cap} does not exist in this kernel: its last is {l} ({Capabilities.Name((int)l) ?? "?"}, /proc/sys/kernel/cap_last_cap)" +
            (probe ? "; programs (libcap, systemd) read PR_CAPBSET_READ upward until this answer to learn how many capabilities the kernel knows" : ""),
            probe ? null : "use only capabilities up to cap_last_cap on this kernel",
            FromErrno: false);
    }
}
