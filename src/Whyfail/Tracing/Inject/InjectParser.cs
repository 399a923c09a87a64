using System.Globalization;
using Whyfail.Cli;
using Whyfail.Decoding;

namespace Whyfail.Tracing.Inject;

/// <summary>
/// Parses <c>--inject=SET:error=ERRNO|retval=N[:when=EXPR][:path=GLOB][:comm=NAME]</c> as strace does where it fits: SET is
/// what --syscall takes (names and %classes, comma separated) with an optional leading <c>!</c> (every call but these);
/// error and retval are exclusive and one is required; the last when= wins. Errors are usage errors that name what is wrong.
/// </summary>
public static class InjectParser
{
    private const string Syntax = "--inject=SET:error=ERRNO|retval=N[:when=EXPR][:path=GLOB][:comm=NAME]";

    public static IReadOnlyList<InjectRule> ParseAll(IEnumerable<string>? values)
    {
        var rules = new List<InjectRule>();
        foreach (var v in values ?? []) rules.Add(Parse(v, rules.Count + 1));
        return rules;
    }

    public static InjectRule Parse(string text, int index = 1)
    {
        WhyfailException Bad(string what) => new($"--inject={text}: {what} (syntax: {Syntax})", ExitCodes.Usage);

        var parts = text.Split(':');
        if (parts[0].Trim().Length == 0) throw Bad("no system calls before the first ':'");
        var set = ParseSet(parts[0], Bad);

        int? error = null;
        long? retval = null;
        InjectWhen? when = null;
        string? path = null, comm = null;
        string? lastKey = null;
        for (int i = 1; i < parts.Length; i++)
        {
            var p = parts[i];
            int eq = p.IndexOf('=');
            var key = eq > 0 ? p[..eq] : "";
            var value = eq > 0 ? p[(eq + 1)..] : "";
            if (key is not ("error" or "retval" or "when" or "path" or "comm"))
            {
                if (lastKey == "path") { path += ":" + p; continue; } // a ':' inside the glob
                throw Bad(key.Length == 0 ? $"'{p}' is not KEY=VALUE" : $"unknown key '{key}' (known: error, retval, when, path, comm)");
            }
            lastKey = key;
            switch (key)
            {
                case "error":
                    if (error != null || retval != null) throw Bad("give one error= or retval=, not several");
                    if (!Errno.TryParse(value, out int e) || e is < 1 or > 4095)
                    {
                        var close = Errno.Suggest(value);
                        throw Bad($"unknown errno '{value}'" + (close.Count > 0 ? $"; did you mean {string.Join(", ", close)}?" : " (a name such as ENOSPC, or 1..4095)"));
                    }
                    error = e;
                    break;
                case "retval":
                    if (error != null || retval != null) throw Bad("give one error= or retval=, not several");
                    if (!long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long r) || r < 0)
                        throw Bad($"retval '{value}' is not a success value (a number 0 or more)");
                    retval = r;
                    break;
                case "when":
                    when = ParseWhen(value, Bad); // strace: the last when= takes precedence
                    break;
                case "path":
                    if (value.Length == 0) throw Bad("path= needs a glob (e.g. path=/tmp/*.log)");
                    path = value;
                    break;
                case "comm":
                    if (value.Length is 0 or > 15) throw Bad($"comm= needs a thread name of 1 to 15 characters (as in /proc/PID/comm), got '{value}'");
                    comm = value;
                    break;
            }
        }
        if (error == null && retval == null) throw Bad("what should the call return? add error=ERRNO or retval=N");
        if (path != null)
        {
            var withPath = set.Where(nr => PathArgs(nr).Count > 0).ToHashSet();
            if (withPath.Count == 0) throw Bad($"path= needs system calls with a path argument; {Names(set)} {(set.Count == 1 ? "has" : "have")} none");
            set = withPath; // the calls of the set that have no path cannot match path=
        }
        return new InjectRule(text, index, set, error, retval, when, path, comm);
    }

    private static HashSet<int> ParseSet(string spec, Func<string, WhyfailException> bad)
    {
        bool negate = spec.StartsWith('!');
        if (negate) spec = spec[1..];
        ISet<int>? named;
        try
        {
            named = WhyfailCli.ParseSyscalls([spec]);
        }
        catch (WhyfailException e)
        {
            throw bad(e.Message);
        }
        if (named is not { Count: > 0 }) throw bad("no system calls named");
        if (!negate) return [.. named];
        return SyscallTable.All.Select(s => s.Nr).Where(nr => !named.Contains(nr)).ToHashSet();
    }

    private static InjectWhen ParseWhen(string s, Func<string, WhyfailException> bad)
    {
        // first[..last][+[step]]
        var err = $"when={s}: expected FIRST, FIRST+, FIRST+STEP, FIRST..LAST or FIRST..LAST+STEP (numbers from 1)";
        string rest = s;
        int? step = null;
        int plus = rest.IndexOf('+');
        if (plus >= 0)
        {
            var st = rest[(plus + 1)..];
            rest = rest[..plus];
            step = st.Length == 0 ? 1 : Number(st, 65535, "STEP");
        }
        int? last = null;
        int dots = rest.IndexOf("..", StringComparison.Ordinal);
        if (dots >= 0)
        {
            last = Number(rest[(dots + 2)..], 65534, "LAST");
            rest = rest[..dots];
        }
        int first = Number(rest, 65535, "FIRST");
        if (last is { } l && l < first) throw bad($"when={s}: LAST ({l}) is before FIRST ({first})");
        return new InjectWhen(first, last, step);

        int Number(string v, int max, string what)
        {
            if (!int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int n))
                throw bad(err);
            if (n < 1 || n > max) throw bad($"when={s}: {what} must be 1..{max}");
            return n;
        }
    }

    /// <summary>The arguments of a call that hold a path (what path= is matched against).</summary>
    public static IReadOnlyList<int> PathArgs(int nr)
    {
        if (Capture.CaptureTable.BuiltIn.SpecFor(nr) is not { } spec) return [];
        var list = new List<int>();
        for (int i = 0; i < 6; i++)
            if (spec.Kind[i] == Events.CaptureKind.String && spec.Size[i] == CaptureSpec.PathSize) list.Add(i);
        return list;
    }

    private static string Names(IEnumerable<int> nrs)
    {
        var names = nrs.Select(nr => SyscallTable.Name(nr) ?? nr.ToString(CultureInfo.InvariantCulture)).Order(StringComparer.Ordinal).ToList();
        return names.Count > 6 ? string.Join(", ", names.Take(6)) + $" and {names.Count - 6} more" : string.Join(", ", names);
    }
}
