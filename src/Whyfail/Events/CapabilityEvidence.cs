using Whyfail.Decoding;

namespace Whyfail.Events;

/// <summary>A capability check that said no during the call (capability:cap_capable with ret != 0).</summary>
public sealed class CapabilityEvidence(int cap, int ret, int userNsLevel, uint userNsOwner, uint euid) : Evidence
{
    public int Cap { get; } = cap;
    public int Ret { get; } = ret;
    public int UserNsLevel { get; } = userNsLevel;
    public uint UserNsOwner { get; } = userNsOwner;
    public uint Euid { get; } = euid;
    public string CapabilityName => Capabilities.Name(Cap) ?? $"capability {Cap}";

    public override string Kind => "capability";

    public override string Text =>
        $"capability {CapabilityName} denied (euid {Euid}, checked in {(UserNsLevel == 0 ? "the initial user namespace" : $"a user namespace at level {UserNsLevel} owned by uid {UserNsOwner}")})";

    public override IEnumerable<EvidenceField> Fields =>
    [
        EvidenceField.Of("capability", CapabilityName),
        EvidenceField.Of("cap", Cap),
        EvidenceField.Of("ret", Ret),
        EvidenceField.Of("euid", (long)Euid),
        EvidenceField.Of("userns_level", UserNsLevel),
        EvidenceField.Of("userns_owner", (long)UserNsOwner),
    ];
}
