using System.Globalization;
using System.Text;

namespace Whyfail.Analysis.Evidence;

/// <summary>
/// A denial a Linux security module logged through the kernel's audit subsystem during the call (AppArmor
/// <c>apparmor="DENIED"</c>, SELinux <c>avc: denied</c>, Landlock <c>LANDLOCK_ACCESS</c>), received by
/// <see cref="AuditListener"/> and attributed to the failing call by process id and time.
/// </summary>
public sealed class LsmEvidence(AuditRecord record) : Events.Evidence
{
    public AuditRecord Record { get; } = record;

    /// <summary>"apparmor", "selinux" or "landlock".</summary>
    public string Lsm => Record.Lsm ?? "unknown";

    /// <summary>What was attempted: AppArmor's operation ("open", "exec", "capable", …), SELinux's permissions ("read").</summary>
    public string? Operation => Lsm switch
    {
        "selinux" => Record.Permissions,
        "landlock" => Record.Field("blockers"),
        _ => Record.Field("operation"),
    };

    /// <summary>Who was confined: the AppArmor profile, the SELinux source context, the Landlock domain.</summary>
    public string? Subject => Lsm switch
    {
        "selinux" => Record.Field("scontext"),
        "landlock" => Record.Field("domain"),
        _ => Record.Field("profile"),
    };

    /// <summary>
    /// The object: a path or name when the record has one (or the capability's name for capable checks; for a
    /// Landlock network denial the address and port, "127.0.0.1:8080").
    /// </summary>
    public string? Object => Record.Field("name") ?? Record.Field("path") ?? Record.Field("capname") ?? Record.Field("target") ?? Record.Field("peer")
        ?? (Lsm == "landlock" ? LandlockAddress : null);

    /// <summary>Landlock: the access rights the domain did not grant ("fs.read_file", "net.bind_tcp", "scope.signal").</summary>
    public IReadOnlyList<string> Blockers => Record.Field("blockers")?.Split(',', StringSplitOptions.RemoveEmptyEntries) ?? [];

    /// <summary>Landlock: the domain and who created it, when its LANDLOCK_DOMAIN record was seen.</summary>
    public LandlockDomain? Domain => LandlockDomain.From(Record.Domain);

    // bind: saddr= src=; connect: daddr= dest= (lsm_audit.c); IPv6 addresses in brackets.
    private string? LandlockAddress
    {
        get
        {
            var addr = Record.Field("saddr") ?? Record.Field("daddr");
            var port = Record.Field("src") ?? Record.Field("dest");
            if (port is null) return addr;
            return addr is null ? $"port {port}" : addr.Contains(':') ? $"[{addr}]:{port}" : $"{addr}:{port}";
        }
    }

    public string? Requested => Record.Field("requested_mask") ?? Record.Field("requested");
    public string? Denied => Record.Field("denied_mask") ?? Record.Field("denied");

    public string LsmName => Lsm switch { "apparmor" => "AppArmor", "selinux" => "SELinux", "landlock" => "Landlock", _ => Lsm };

    public override string Kind => "lsm";

    public override string Text
    {
        get
        {
            var sb = new StringBuilder($"{LsmName} denied");
            if (Operation is { } op) sb.Append($" {op}");
            if (Object is { } o) sb.Append($" of {Escape(o)}");
            if (Subject is { } s) sb.Append(Lsm switch { "apparmor" => $" (profile {Escape(s)}", "selinux" => $" (scontext {Escape(s)}", _ => $" (domain {Escape(s)}" });
            if (Lsm == "selinux" && Record.Field("tcontext") is { } tc) sb.Append($", tcontext {Escape(tc)}, tclass {Escape(Record.Field("tclass") ?? "?")}");
            if (Denied is { } d) sb.Append($", denied {Escape(d)}");
            if (Domain is { } dom) sb.Append($", created by pid {dom.CreatorPid}{(dom.CreatorExe is { } exe ? " " + Escape(exe) : "")}");
            if (Subject is not null) sb.Append(')');
            var comm = Record.Comm is { } c ? Escape(c) + " " : "";
            sb.Append($"; audit record {Record.Serial}");
            if (Record.Pid != 0) sb.Append($" of {comm}pid {Record.Pid}");
            return sb.ToString();
        }
    }

    private IEnumerable<Events.EvidenceField> LandlockFields()
    {
        yield return Events.EvidenceField.Of("blockers", Blockers);
        if (Record.Field("dev") is { } dev) yield return Events.EvidenceField.Of("dev", dev);
        if (Record.Field("ino") is { } ino && ulong.TryParse(ino, NumberStyles.None, CultureInfo.InvariantCulture, out var i)) yield return Events.EvidenceField.Of("ino", i);
        if (Record.Pid != 0) yield return Events.EvidenceField.Of("pid", Record.Pid);
        if (Domain is not { } d) yield break;
        yield return Events.EvidenceField.Of("domain_pid", d.CreatorPid);
        if (d.CreatorUid is { } uid) yield return Events.EvidenceField.Of("domain_uid", uid);
        if (d.CreatorExe is { } exe) yield return Events.EvidenceField.Of("domain_exe", exe);
        if (d.CreatorComm is { } comm) yield return Events.EvidenceField.Of("domain_comm", comm);
        yield return Events.EvidenceField.Of("domain_record", Record.Domain!.Body);
    }

    /// <summary>Quotes a string from the record (it comes from the traced process's world): control characters escaped.</summary>
    private static string Escape(string s) => Decoding.StringEscaper.Quote(s);

    public override IEnumerable<Events.EvidenceField> Fields
    {
        get
        {
            yield return Events.EvidenceField.Of("lsm", Lsm);
            if (Operation is { } op) yield return Events.EvidenceField.Of("operation", op);
            if (Subject is { } s) yield return Events.EvidenceField.Of(Lsm switch { "apparmor" => "profile", "selinux" => "scontext", _ => "domain" }, s);
            if (Object is { } o) yield return Events.EvidenceField.Of("object", o);
            if (Requested is { } r) yield return Events.EvidenceField.Of("requested", r);
            if (Denied is { } d) yield return Events.EvidenceField.Of("denied", d);
            if (Lsm == "landlock") foreach (var f in LandlockFields()) yield return f;
            yield return Events.EvidenceField.Of("audit_type", Record.Type);
            yield return Events.EvidenceField.Of("audit_serial", Record.Serial.ToString(CultureInfo.InvariantCulture));
            yield return Events.EvidenceField.Of("record", Record.Body);
        }
    }
}
