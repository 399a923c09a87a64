using System.Globalization;
using Whyfail.Capture.Deny;
using Whyfail.Decoding;

namespace Whyfail.Tracing.Deny;

/// <summary>
/// `whyfail deny` rules: <c>WHAT=PATTERN[:errno=E][:user=[!]U,...][:comm=NAME]</c> with WHAT one of
/// <c>create=GLOB</c> (a new name's last component), <c>open=GLOB</c> and <c>exec=GLOB</c> (an absolute path),
/// <c>bind=PORT</c>. The errno defaults to EACCES. Errors are <see cref="WhyfailException"/>s with exit code 2 naming
/// the rule and what is wrong.
/// </summary>
public static class DenyParser
{
    /// <summary>The errno a refused call gets when the rule names none.</summary>
    public const string DefaultErrno = "EACCES";

    public static IReadOnlyList<DenyRule> ParseAll(IReadOnlyList<string> texts, Func<string, uint>? lookupUser = null)
    {
        if (texts.Count == 0)
            throw new WhyfailException("whyfail deny needs at least one rule (see whyfail deny --help)", ExitCodes.Usage);
        if (texts.Count > DenyRule.MaxRules)
            throw new WhyfailException($"whyfail deny takes at most {DenyRule.MaxRules} rules, not {texts.Count}", ExitCodes.Usage);
        return texts.Select((t, i) => Parse(t, i + 1, lookupUser ?? LookupUser)).ToList();
    }

    public static DenyRule Parse(string text, int number, Func<string, uint> lookupUser)
    {
        WhyfailException Bad(string why) => new($"deny rule {number} '{Rendering.TextSafety.Sanitize(text)}': {why}", ExitCodes.Usage);

        var parts = SplitColons(text);
        int eq = parts[0].IndexOf('=');
        if (eq <= 0) throw Bad("expected WHAT=PATTERN first (create=GLOB, open=GLOB, exec=GLOB or bind=PORT)");
        string kind = parts[0][..eq], value = parts[0][(eq + 1)..];
        DenyWhat what = kind switch
        {
            "create" => DenyWhat.Create,
            "open" => DenyWhat.Open,
            "exec" => DenyWhat.Exec,
            "bind" => DenyWhat.Bind,
            _ => throw Bad($"unknown kind '{kind}': choose create=GLOB, open=GLOB, exec=GLOB or bind=PORT"),
        };
        string? pattern = null;
        int port = 0;
        if (what == DenyWhat.Bind)
        {
            if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port > 65535)
                throw Bad($"'{value}' is not a port (0 to 65535)");
        }
        else
        {
            if (value.Length == 0) throw Bad("empty pattern");
            if (what == DenyWhat.Create && value.Contains('/'))
                throw Bad("create= matches the new name's last component, which has no '/': write the name's pattern only (e.g. create=*.exe)");
            if (what != DenyWhat.Create && !value.StartsWith('/') && !value.StartsWith('*'))
                throw Bad($"{kind}= matches the absolute path: start the pattern with '/' (or '**' for any directory)");
            try { Glob.Compile(value); }
            catch (FormatException e) { throw Bad($"pattern '{value}': {e.Message}"); }
            pattern = value;
        }

        int errno = Errno.TryParse(DefaultErrno, out int d) ? d : throw new WhyfailException("errno table lacks EACCES", ExitCodes.Internal);
        var users = DenyUsers.Any;
        var uids = new List<uint>();
        string? comm = null;
        var seen = new HashSet<string>();
        foreach (var opt in parts.Skip(1))
        {
            int k = opt.IndexOf('=');
            if (k <= 0) throw Bad($"'{opt}': expected errno=E, user=U or comm=NAME");
            string key = opt[..k], val = opt[(k + 1)..];
            if (!seen.Add(key)) throw Bad($"{key}= given twice");
            switch (key)
            {
                case "errno":
                    if (!Errno.TryParse(val, out errno) || errno <= 0 || errno > 4095 || Errno.IsInternal(errno))
                        throw Bad($"'{val}' is not an errno a program can receive (a name like EPERM or a number 1-133)");
                    break;
                case "user":
                    users = val.StartsWith('!') ? DenyUsers.Except : DenyUsers.Only;
                    foreach (var u in val.TrimStart('!').Split(',', StringSplitOptions.TrimEntries))
                    {
                        if (u.Length == 0) throw Bad("user= has an empty name");
                        try { uids.Add(lookupUser(u)); }
                        catch (WhyfailException e) { throw Bad($"user '{u}': {e.Message}"); }
                    }
                    if (uids.Count > DenyRule.MaxUsers) throw Bad($"user= lists {uids.Count} users, at most {DenyRule.MaxUsers}");
                    break;
                case "comm":
                    if (val.Length == 0 || System.Text.Encoding.UTF8.GetByteCount(val) > 15)
                        throw Bad("comm= takes a process name of 1 to 15 bytes, as the kernel keeps it (/proc/PID/comm)");
                    comm = val;
                    break;
                default:
                    throw Bad($"unknown option '{key}': choose errno=E, user=[!]U,... or comm=NAME");
            }
        }
        return new DenyRule(number, text, what, pattern, port, errno, users, uids, comm);
    }

    /// <summary>Splits at ':' not escaped with '\' (the escape stays, for the glob).</summary>
    private static List<string> SplitColons(string s)
    {
        var parts = new List<string>();
        var cur = new System.Text.StringBuilder();
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && i + 1 < s.Length && s[i + 1] == ':')
            {
                cur.Append(':');
                i++;
            }
            else if (s[i] == ':')
            {
                parts.Add(cur.ToString());
                cur.Clear();
            }
            else
                cur.Append(s[i]);
        }
        parts.Add(cur.ToString());
        return parts;
    }

    /// <summary>A user name or numeric uid from the password database (a number not in it is taken as is).</summary>
    private static uint LookupUser(string user)
    {
        if (uint.TryParse(user, NumberStyles.None, CultureInfo.InvariantCulture, out uint uid)) return uid;
        return Launcher.LookupUser(user).Uid;
    }
}
