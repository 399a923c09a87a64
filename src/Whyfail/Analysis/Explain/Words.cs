using System.Globalization;

namespace Whyfail.Analysis.Explain;

/// <summary>Shared wording for explanations.</summary>
public static class Words
{
    public static string Q(string path) => "\"" + path + "\"";

    public static string Kind(FileKind k) => k switch
    {
        FileKind.Regular => "regular file", FileKind.Directory => "directory", FileKind.Symlink => "symbolic link",
        FileKind.CharDevice => "character device", FileKind.BlockDevice => "block device", FileKind.Fifo => "FIFO",
        FileKind.Socket => "socket", _ => "file of unknown type",
    };

    public static string A(FileKind k) => k is FileKind.Regular or FileKind.Unknown ? "a " + Kind(k) : (k == FileKind.Fifo ? "a FIFO" : "a " + Kind(k));

    public static string Mode(uint mode) => Convert.ToString(mode & 0xFFF, 8).PadLeft(4, '0');

    public static string Rwx(Access a) =>
        $"{((a & Access.Read) != 0 ? "r" : "")}{((a & Access.Write) != 0 ? "w" : "")}{((a & Access.Exec) != 0 ? "x" : "")}";

    /// <summary>"r-x" style.</summary>
    public static string RwxFull(Access a) =>
        $"{((a & Access.Read) != 0 ? 'r' : '-')}{((a & Access.Write) != 0 ? 'w' : '-')}{((a & Access.Exec) != 0 ? 'x' : '-')}";

    /// <summary>"search (x)", "read (r)", "write (w)", "read and write (rw)", "execute (x)".</summary>
    public static string AccessName(Access a, bool directory)
    {
        var parts = new List<string>();
        if ((a & Access.Read) != 0) parts.Add(directory ? "read (list)" : "read");
        if ((a & Access.Write) != 0) parts.Add("write");
        if ((a & Access.Exec) != 0) parts.Add(directory ? "search" : "execute");
        return (parts.Count == 0 ? "no" : string.Join(" and ", parts)) + " (" + Rwx(a) + ")";
    }

    public static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
    public static string N(ulong n) => n.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>"a", "a and b", "a, b and c".</summary>
    public static string Join(IReadOnlyList<string> items) =>
        items.Count <= 1 ? string.Concat(items) : string.Join(", ", items.Take(items.Count - 1)) + " and " + items[^1];

    public static string Plural(long n, string one, string many) => $"{N(n)} {(n == 1 ? one : many)}";

    /// <summary>A path as a shell word: bare when it is made of safe characters, else single-quoted.</summary>
    public static string Sh(string s)
    {
        if (s.Length > 0 && s.All(c => char.IsAsciiLetterOrDigit(c) || "/._-+@%:,=".Contains(c))) return s;
        return "'" + s.Replace("'", "'\\''") + "'";
    }

    /// <summary>Levenshtein distance, for "did you mean" suggestions.</summary>
    public static int EditDistance(string a, string b)
    {
        if (a.Length > 512 || b.Length > 512) return int.MaxValue;
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) prev[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (int j = 1; j <= b.Length; j++)
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (prev, cur) = (cur, prev);
        }
        return prev[b.Length];
    }

    /// <summary>"0700, owner root (uid 0), group root (gid 0)".</summary>
    public static string Owner(ProcessView proc, PathComponent c) =>
        $"mode {Mode(c.Mode)}, owner {proc.DescribeUser(c.Uid)}, group {proc.DescribeGroup(c.Gid)}";

    /// <summary>"uid 65534 (not the owner, not in its group)".</summary>
    public static string Who(ProcessView proc, Credentials creds, PathComponent c, PermCheck chk)
    {
        var why = chk.Class switch
        {
            PermClass.Owner => "the owner",
            PermClass.Group => "not the owner, in its group",
            PermClass.Other => "not the owner, not in its group",
            PermClass.AclUser => $"ACL entry {chk.AclEntry} applies{Masked(chk)}",
            PermClass.AclGroup => $"not the owner; ACL entry {chk.AclEntry} applies{Masked(chk)}",
            _ => "not the owner, no ACL user or group entry applies",
        };
        var name = proc.UserName(creds.Fsuid);
        return name.Length > 0 ? $"{name} (uid {creds.Fsuid}, {why})" : $"uid {creds.Fsuid} ({why})";
    }

    private static string Masked(PermCheck chk) =>
        chk.AclMask is { } m && chk.AclEntry is { } e && (e.Perm & ~m & chk.Missing) != 0 ? $", but the ACL mask {RwxFull(m)} removes {Rwx(e.Perm & ~m & chk.Missing)}" : "";

    /// <summary>A fix that grants <paramref name="missing"/> to the class that decided.</summary>
    public static string GrantFix(ProcessView proc, Credentials creds, PathComponent c, PermCheck chk, Access missing)
    {
        var bits = Rwx(missing);
        var p = Sh(c.Path);
        return chk.Class switch
        {
            PermClass.Owner => $"chmod u+{bits} {p}",
            PermClass.Group => $"chmod g+{bits} {p}",
            // Closed to everyone but its owner and group (/etc/shadow 0640, a key 0600, a private directory 0700), or write
            // wanted (chmod o+w /var/lib would let every user create and delete files there): the narrow grants come first,
            // and widening it is named for what it does.
            PermClass.Other when (c.Mode & 7) == 0 || (missing & Access.Write) != 0 =>
                (c.HasAcl ? "" : $"grant it to uid {creds.Fsuid} alone with setfacl -m u:{creds.Fsuid}:{bits} {p}, or ") +
                $"run as a member of its group {proc.DescribeGroup(c.Gid)}; chmod o+{bits} {p} would " +
                ((missing & Access.Write) == 0 ? "open it to every user"
                    : c.Kind == FileKind.Directory ? "let every user create and delete files in it" : "let every user change it"),
            PermClass.Other => $"chmod o+{bits} {p}, or run as a member of its group {proc.DescribeGroup(c.Gid)}" +
                               (c.HasAcl ? "" : $", or grant it with setfacl -m u:{creds.Fsuid}:{bits} {p}"),
            _ when chk.AclMask is { } m && chk.AclEntry is { } e && (e.Perm & ~m & missing) != 0 => $"widen the ACL mask: setfacl -m m::{Rwx(m | missing)} {p}",
            _ => $"setfacl -m u:{creds.Fsuid}:{bits} {p}",
        };
    }
}
