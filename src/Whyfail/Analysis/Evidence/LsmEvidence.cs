using System.Globalization;
using System.Text;
using System.Text.Json;

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

    private void WriteLandlockFields(Utf8JsonWriter w)
    {
        w.WriteStartArray("blockers");
        foreach (var b in Blockers) w.WriteStringValue(b);
        w.WriteEndArray();
        if (Record.Field("dev") is { } dev) w.WriteString("dev", dev);
        if (Record.Field("ino") is { } ino && ulong.TryParse(ino, NumberStyles.None, CultureInfo.InvariantCulture, out var i)) w.WriteNumber("ino", i);
        if (Record.Pid != 0) w.WriteNumber("pid", Record.Pid);
        if (Domain is not { } d) return;
        w.WriteNumber("domain_pid", d.CreatorPid);
        if (d.CreatorUid is { } uid) w.WriteNumber("domain_uid", uid);
        if (d.CreatorExe is { } exe) w.WriteString("domain_exe", exe);
        if (d.CreatorComm is { } comm) w.WriteString("domain_comm", comm);
        w.WriteString("domain_record", Record.Domain!.Body);
    }

    /// <summary>Quotes a string from the record (it comes from the traced process's world): control characters escaped.</summary>
    private static string Escape(string s) => Decoding.StringEscaper.Quote(s);

    public override void WriteJsonFields(Utf8JsonWriter w)
    {
        w.WriteString("lsm", Lsm);
        if (Operation is { } op) w.WriteString("operation", op);
        if (Subject is { } s) w.WriteString(Lsm switch { "apparmor" => "profile", "selinux" => "scontext", _ => "domain" }, s);
        if (Object is { } o) w.WriteString("object", o);
        if (Requested is { } r) w.WriteString("requested", r);
        if (Denied is { } d) w.WriteString("denied", d);
        if (Lsm == "landlock") WriteLandlockFields(w);
        w.WriteNumber("audit_type", Record.Type);
        w.WriteString("audit_serial", Record.Serial.ToString(CultureInfo.InvariantCulture));
        w.WriteString("record", Record.Body);
    }
}
