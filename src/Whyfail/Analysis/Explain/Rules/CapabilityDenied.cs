using Whyfail.Analysis.Evidence;
using Whyfail.Events;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// Capability checks the kernel denied during the call (<see cref="CapabilityEvidence"/>, capability:cap_capable):
/// the capability, the user namespace it was checked in and the caller's effective uid. For the file-permission
/// overrides (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER) the denial is the kernel's last resort after the
/// permission bits said no, which the path rules explain; the sentence says so.
/// Several denials in one namespace are one sentence: a kernel that checks a second capability after the first
/// was refused is asking for either (ns_last_pid: CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE), so the fix names the
/// narrowest of them.
/// </summary>
public sealed class CapabilityDenied : IExplainRule
{
    public string Id => "capability.denied";

    private static readonly HashSet<string> Overrides = ["CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER"];

    /// <summary>The capabilities that allow nearly everything: the last to suggest when a narrower one would do.</summary>
    private static readonly HashSet<string> Broad = ["CAP_SYS_ADMIN"];

    public bool AppliesTo(SyscallEvent ev) => ev.Evidence.OfType<CapabilityEvidence>().Any();

    public bool FromEvidence => true;

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        var denied = ev.Evidence.OfType<CapabilityEvidence>().DistinctBy(c => (c.Cap, c.UserNsLevel, c.UserNsOwner));
        foreach (var group in denied.GroupBy(c => (c.UserNsLevel, c.UserNsOwner, Override: Overrides.Contains(c.CapabilityName))))
        {
            var caps = group.ToList();
            var first = caps[0];
            var ns = first.UserNsLevel == 0 ? "the initial user namespace" : $"a user namespace at level {first.UserNsLevel} owned by uid {first.UserNsOwner}";
            var who = $"pid {ev.Pid} (euid {first.Euid})";
            var names = caps.Select(c => c.CapabilityName).ToList();
            string lacks = caps.Count == 1 ? "does not have it" : caps.Count == 2 ? "has neither" : "has none of them";
            if (group.Key.Override)
            {
                yield return new Explanation(Id,
                    $"the kernel checked {Join(names, "and")} in {ns} during {ev.Syscall}, and {who} {lacks}, so it could not override the file permissions",
                    null);
                continue;
            }
            var suggest = names.FirstOrDefault(n => !Broad.Contains(n)) ?? names[0];
            string checkedAll = caps.Count == 1 ? "" : $" (the kernel checked {(caps.Count == 2 ? "both" : "each")})";
            string give = caps.Count == 1 ? $"give the program {suggest}" : $"give the program one of them, the narrowest being {suggest}";
            yield return new Explanation(Id,
                $"{ev.Syscall} needs {Join(names, "or")} in {ns}{checkedAll}, and {who} {lacks}",
                first.UserNsLevel == 0
                    ? $"run it as root, or {give} (setcap {suggest.ToLowerInvariant()}+ep PROGRAM, or AmbientCapabilities={suggest} in a systemd unit)"
                    : $"the capability is checked in the namespace that owns the resource; {Join(names, "or")} held in a child user namespace does not count there");
        }
    }

    private static string Join(IReadOnlyList<string> names, string word) =>
        names.Count <= 2 ? string.Join($" {word} ", names) : string.Join(", ", names.Take(names.Count - 1)) + $", {word} " + names[^1];
}
