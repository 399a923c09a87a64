using System.Globalization;
using System.Text;
using Whyfail.Capture.Native;

namespace Whyfail.Analysis.Evidence;

/// <summary>
/// One record of the kernel's audit log, as sent on the audit netlink socket: a type and a body
/// <c>audit(SECONDS.MILLIS:SERIAL): key=value key="value" …</c>. Unquoted values of the fields the kernel
/// writes with audit_log_untrustedstring (names, paths, comm, profile) are hex when they hold special characters.
/// </summary>
public sealed class AuditRecord
{
    public const int AUDIT_SYSCALL = Libc.AUDIT_SYSCALL, AUDIT_EOE = Libc.AUDIT_EOE, AUDIT_AVC = Libc.AUDIT_AVC;
    // Newer than the installed headers (linux/audit.h of 6.15: Landlock's records), and a range the header names only in
    // a comment ("1500 - 1599 kernel LSPP events", AppArmor's).
    public const int AUDIT_LANDLOCK_ACCESS = 1423, AUDIT_LANDLOCK_DOMAIN = 1424, AUDIT_APPARMOR_FIRST = 1500, AUDIT_APPARMOR_LAST = 1599;

    // Fields the kernel logs as untrusted strings: quoted when plain, hex when not.
    private static readonly HashSet<string> Untrusted = ["name", "comm", "path", "profile", "target", "peer", "exe", "cwd", "peer_profile", "namespace"];

    public int Type { get; }
    public string Body { get; }
    /// <summary>The record's time (CLOCK_REALTIME, millisecond resolution), in ms since the epoch.</summary>
    public long TimeMs { get; }
    public ulong Serial { get; }
    public IReadOnlyDictionary<string, string> Fields { get; }
    /// <summary>SELinux only: the permissions between the braces ("read write").</summary>
    public string? Permissions { get; }

    private AuditRecord(int type, string body, long timeMs, ulong serial, Dictionary<string, string> fields, string? perms)
    {
        Type = type; Body = body; TimeMs = timeMs; Serial = serial; Fields = fields; Permissions = perms;
    }

    public string? Field(string key) => Fields.TryGetValue(key, out var v) ? v : null;

    /// <summary>
    /// The process the record is about; 0 when unknown. Landlock's access records carry no pid: theirs comes from
    /// the SYSCALL record of the same event (<see cref="Syscall"/>), which exists only when the task has an audit
    /// context.
    /// </summary>
    public int Pid => int.TryParse(Field("pid"), NumberStyles.None, CultureInfo.InvariantCulture, out var p) ? p : Syscall?.Pid ?? 0;

    /// <summary>The SYSCALL record of the same event (same serial), when the listener has seen it.</summary>
    public AuditRecord? Syscall { get; internal set; }

    /// <summary>Landlock: the LANDLOCK_DOMAIN record that described this record's domain when it was first logged.</summary>
    public AuditRecord? Domain { get; internal set; }

    /// <summary>True once no more records of the same event can arrive (its end, or a later event, was seen).</summary>
    internal bool Complete { get; set; }
    public string? Comm => Field("comm");

    /// <summary>Which security module wrote it, when it is a denial ("apparmor", "selinux", "landlock"); else null.</summary>
    public string? Lsm
    {
        get
        {
            if (Field("apparmor") is { } aa) return aa is "DENIED" ? "apparmor" : null;
            if (Type == AUDIT_AVC && Body.Contains("avc:", StringComparison.Ordinal))
                return Body.Contains(" denied ", StringComparison.Ordinal) && Field("permissive") != "1" ? "selinux" : null;
            if (Type == AUDIT_LANDLOCK_ACCESS) return "landlock";
            return null;
        }
    }

    /// <summary>Parses one record; null when it does not have the audit(…) header.</summary>
    public static AuditRecord? Parse(int type, string body)
    {
        if (!body.StartsWith("audit(", StringComparison.Ordinal)) return null;
        int close = body.IndexOf("):", StringComparison.Ordinal);
        if (close < 0) return null;
        var stamp = body.AsSpan(6, close - 6);
        int colon = stamp.IndexOf(':'), dot = stamp.IndexOf('.');
        if (colon < 0 || dot < 0 || dot > colon) return null;
        if (!long.TryParse(stamp[..dot], NumberStyles.None, CultureInfo.InvariantCulture, out var sec)
            || !long.TryParse(stamp[(dot + 1)..colon], NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
            || !ulong.TryParse(stamp[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var serial))
            return null;
        var rest = body[(close + 2)..];
        string? perms = null;
        int lb = rest.IndexOf('{'), rb = rest.IndexOf('}');
        if (rest.TrimStart().StartsWith("avc:", StringComparison.Ordinal) && lb >= 0 && rb > lb)
            perms = rest[(lb + 1)..rb].Trim();
        return new AuditRecord(type, body, sec * 1000 + ms, serial, ParseFields(rest), perms);
    }

    /// <summary>key=value pairs; values are "quoted", 'quoted' or run to the next space.</summary>
    internal static Dictionary<string, string> ParseFields(string s)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        int i = 0;
        while (i < s.Length)
        {
            while (i < s.Length && s[i] == ' ') i++;
            int eq = i;
            while (eq < s.Length && s[eq] != '=' && s[eq] != ' ') eq++;
            if (eq >= s.Length || s[eq] != '=') { i = eq + 1; continue; }
            var key = s[i..eq];
            int v = eq + 1;
            string value;
            if (v < s.Length && s[v] is '"' or '\'')
            {
                int end = s.IndexOf(s[v], v + 1);
                if (end < 0) end = s.Length;
                value = s[(v + 1)..end];
                i = end + 1;
            }
            else
            {
                int end = s.IndexOf(' ', v);
                if (end < 0) end = s.Length;
                value = s[v..end];
                if (Untrusted.Contains(key) && Hex(value) is { } decoded) value = decoded;
                i = end;
            }
            d.TryAdd(key, value);
        }
        return d;
    }

    private static string? Hex(string v)
    {
        if (v.Length == 0 || v.Length % 2 != 0 || v == "?") return null;
        foreach (var c in v) if (!char.IsAsciiHexDigitUpper(c) && !char.IsAsciiDigit(c)) return null;
        var bytes = Convert.FromHexString(v);
        return Encoding.UTF8.GetString(bytes);
    }
}
