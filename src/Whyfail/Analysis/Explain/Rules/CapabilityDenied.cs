using Whyfail.Analysis.Evidence;
using Whyfail.Events;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// Capability checks the kernel denied during the call (<see cref="CapabilityEvidence"/>, capability:cap_capable):
/// the capability, the user namespace it was checked in and the caller's effective uid. For the file-permission
/// overrides (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER) the denial is the kernel's last resort after the
/// permission bits said no, which the path rules explain; the sentence says so.
/// </summary>
public sealed class CapabilityDenied : IExplainRule
{
    public string Id => "capability.denied";

    private static readonly HashSet<string> Overrides = ["CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER"];

    public bool AppliesTo(SyscallEvent ev) => ev.Evidence.OfType<CapabilityEvidence>().Any();

    public bool FromEvidence => true;

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        foreach (var c in ev.Evidence.OfType<CapabilityEvidence>().DistinctBy(c => (c.Cap, c.UserNsLevel)))
        {
            var ns = c.UserNsLevel == 0 ? "the initial user namespace" : $"a user namespace at level {c.UserNsLevel} owned by uid {c.UserNsOwner}";
            var who = $"pid {ev.Pid} (euid {c.Euid})";
            if (Overrides.Contains(c.CapabilityName))
                yield return new Explanation(Id,
                    $"the kernel checked {c.CapabilityName} in {ns} during {ev.Syscall}, and {who} does not have it, so it could not override the file permissions",
                    null);
            else
                yield return new Explanation(Id,
                    $"{ev.Syscall} needs {c.CapabilityName} in {ns}, and {who} does not have it",
                    c.UserNsLevel == 0
                        ? $"run it as root, or give the program {c.CapabilityName} (setcap {c.CapabilityName.ToLowerInvariant()}+ep PROGRAM, or AmbientCapabilities={c.CapabilityName} in a systemd unit)"
                        : $"the capability is checked in the namespace that owns the resource; {c.CapabilityName} held in a child user namespace does not count there");
        }
    }
}
