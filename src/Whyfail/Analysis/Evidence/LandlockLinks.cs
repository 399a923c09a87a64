using System.Globalization;

namespace Whyfail.Analysis.Evidence;

/// <summary>
/// Joins Landlock's audit records (Linux 6.15+, security/landlock/audit.c) into one denial. A denial is a
/// LANDLOCK_ACCESS record <c>domain=ID blockers=fs.read_file path="/x" dev="vda" ino=N</c> (or
/// <c>saddr=A src=PORT</c> / <c>daddr=A dest=PORT</c> for network rules) that names neither the process nor its
/// creator; the first denial of a domain is followed by a LANDLOCK_DOMAIN record
/// <c>domain=ID status=allocated mode=enforcing pid=CREATOR uid=U exe="/path" comm="name"</c>, logged once per
/// domain (so it is remembered here for the domain's later denials), and, when the task has an audit context, by
/// the SYSCALL record of the same event (same serial) with the failing process's pid, then an EOE record.
/// Without an audit context each record is an event of its own and the denial has no pid.
/// </summary>
internal sealed class LandlockLinks
{
    private const int MaxDomains = 1024;
    private readonly Dictionary<string, AuditRecord> domains = new(StringComparer.Ordinal);
    private readonly Queue<string> order = new();

    /// <summary>Takes note of one record of the audit stream (any type), linking it to the pending denials.</summary>
    public void Saw(AuditRecord rec, List<AuditRecord> pending)
    {
        if (rec.Type == AuditRecord.AUDIT_LANDLOCK_DOMAIN && rec.Field("domain") is { } id)
        {
            if (rec.Field("status") == "allocated")
            {
                Remember(id, rec);
                foreach (var p in pending)
                    if (p.Type == AuditRecord.AUDIT_LANDLOCK_ACCESS && p.Domain is null && p.Field("domain") == id) p.Domain = rec;
            }
            else if (rec.Field("status") == "deallocated")
                domains.Remove(id); // it never shows again
        }
        else if (rec.Type == AuditRecord.AUDIT_LANDLOCK_ACCESS && rec.Field("domain") is { } did && domains.TryGetValue(did, out var dom))
            rec.Domain = dom;

        foreach (var p in pending)
        {
            if (p.Type != AuditRecord.AUDIT_LANDLOCK_ACCESS || p.Complete || ReferenceEquals(p, rec)) continue;
            if (rec.Serial != p.Serial) p.Complete = rec.Serial > p.Serial;
            else if (rec.Type == AuditRecord.AUDIT_SYSCALL) p.Syscall = rec;
            else if (rec.Type == AuditRecord.AUDIT_EOE) p.Complete = true;
        }
    }

    private void Remember(string id, AuditRecord rec)
    {
        if (!domains.ContainsKey(id)) order.Enqueue(id);
        domains[id] = rec;
        while (domains.Count > MaxDomains && order.TryDequeue(out var old)) domains.Remove(old);
    }
}

/// <summary>A Landlock domain as its LANDLOCK_DOMAIN record describes it: who created it (landlock_restrict_self).</summary>
public sealed record LandlockDomain(string Id, int CreatorPid, uint? CreatorUid, string? CreatorExe, string? CreatorComm)
{
    public static LandlockDomain? From(AuditRecord? r) =>
        r?.Field("domain") is { } id
            ? new LandlockDomain(id, r.Pid,
                uint.TryParse(r.Field("uid"), NumberStyles.None, CultureInfo.InvariantCulture, out var uid) ? uid : null,
                r.Field("exe"), r.Field("comm"))
            : null;
}
