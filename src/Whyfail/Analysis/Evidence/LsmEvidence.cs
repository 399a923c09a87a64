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

    /// <summary>The object: a path or name when the record has one (or the capability's name for capable checks).</summary>
    public string? Object => Record.Field("name") ?? Record.Field("path") ?? Record.Field("capname") ?? Record.Field("target") ?? Record.Field("peer");

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
            if (Subject is not null) sb.Append(')');
            var comm = Record.Comm is { } c ? Escape(c) + " " : "";
            sb.Append($"; audit record {Record.Serial} of {comm}pid {Record.Pid}");
            return sb.ToString();
        }
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
        w.WriteNumber("audit_type", Record.Type);
        w.WriteString("audit_serial", Record.Serial.ToString(CultureInfo.InvariantCulture));
        w.WriteString("record", Record.Body);
    }
}
