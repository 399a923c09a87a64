using Whyfail.Analysis.Explain;
using Whyfail.Events;
using static Whyfail.Capture.Native.Libc;

namespace Whyfail.Analysis.Verdict;

/// <summary>
/// prctl(PR_CAPBSET_READ, N) = EINVAL: a read of the capability bounding set for a number past the kernel's last
/// capability, which is how libcap (and through it NSS modules, systemd, id, getent…) learns how many capabilities the
/// running kernel knows: it reads upward until this answer. A read changes nothing, and EINVAL is its only way to fail
/// for a number the kernel does not know, so the answer is the question's: strong, whatever the program did next (it was
/// taken for the last failure of `id nosuchuser`).
/// </summary>
public sealed class CapabilityProbe : IRoutinePattern
{
    public bool Strong => true;

    private static readonly Routine Probe = new("probe", "capability probes",
        "a read of the capability bounding set past the kernel's last capability: how libcap learns how many there are");

    public Routine? Judge(Tracked t, ProcessTrack process)
    {
        var ev = t.Event;
        return ev.Errno == Errnos.EINVAL && ev.Syscall == "prctl" && SyscallArgs.Int(ev, 0) == PR_CAPBSET_READ ? Probe : null;
    }
}
