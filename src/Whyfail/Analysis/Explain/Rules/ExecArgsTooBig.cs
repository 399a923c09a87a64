using System.Text;
using Whyfail.Decoding;
using Whyfail.Events;
using static Whyfail.Analysis.Explain.Words;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// E2BIG from execve/execveat: argv and envp, as counted in the kernel at the failure (<see cref="ExecArgs"/>: the
/// process may be gone a microsecond later), against the limits fs/exec.c applies: MAX_ARG_STRINGS strings per vector;
/// the strings (with their NULs and the program's name) and one pointer per string within a quarter of the stack limit,
/// at most 3/4 of _STK_LIM and at least ARG_MAX (bprm_stack_limits); MAX_ARG_STRLEN bytes for any one string
/// (copy_strings).
/// </summary>
public sealed class ExecArgsTooBig : IExplainRule
{
    public string Id => "exec.args_too_big";

    private static readonly XlatTable Limits = Xlat.Table("exec_limits");
    private static readonly ulong MaxArgStrlen = Limits["MAX_ARG_STRLEN"];
    private static readonly ulong MaxArgStrings = Limits["MAX_ARG_STRINGS"];
    private static readonly ulong StkLim = Limits["_STK_LIM"];
    private static readonly ulong ArgMax = Limits["ARG_MAX"];
    private const ulong PointerSize = 8;
    private const int AtFdcwd = Capture.Native.Libc.AT_FDCWD;

    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.E2BIG && ev.Syscall is "execve" or "execveat";

    /// <summary>The bytes execve allows for the strings and their pointers under a stack soft limit (null: unlimited).</summary>
    public static ulong Allowed(ulong? stackSoft) =>
        Math.Max(Math.Min(StkLim / 4 * 3, stackSoft is { } s ? s / 4 : ulong.MaxValue), ArgMax);

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        var stack = proc.Limit("Max stack size");
        ulong? soft = stack?.Soft;
        ulong limit = Allowed(soft);
        string limitWhy = stack is null ? $"{Bytes(limit)} if the stack limit is the default 8 MiB (it was not captured)" : LimitWhy(soft, limit);
        var x = proc.Context?.Exec;
        proc.Checked.Add("argv and envp as counted at the failure");
        if (x is null)
        {
            proc.NoteLost("the sizes of argv and envp");
            yield return new Explanation(Id,
                $"the sizes of the arguments and environment were not captured at the failure; execve refuses with E2BIG when one string is longer than MAX_ARG_STRLEN ({N(MaxArgStrlen)} bytes with its NUL), or when all the strings with their NULs and one {PointerSize}-byte pointer each need more than {limitWhy}",
                Fix(false, false, limit), false);
            yield break;
        }

        string atLeast = x.Complete ? "" : "at least ";
        string partial = x.Fault ? " (a pointer or string could not be read, so the count stops there)"
            : x.Partial ? " (the count stopped early, so these are lower bounds)" : "";
        ulong argc = x.ArgStrings, envc = x.EnvStrings;
        ulong name = FilenameBytes(ev);
        ulong pointers = (Math.Max(argc, 1) + envc) * PointerSize;
        ulong strings = x.ArgBytes + x.EnvBytes + name;
        bool found = false;

        if (argc > MaxArgStrings || envc > MaxArgStrings)
        {
            found = true;
            yield return new Explanation(Id,
                $"{(argc > MaxArgStrings ? $"argv has {atLeast}{N(argc)} strings" : $"envp has {atLeast}{N(envc)} strings")}, more than MAX_ARG_STRINGS ({N(MaxArgStrings)}), the most execve counts in one vector",
                Fix(false, false, limit));
        }
        if (x.Longest > MaxArgStrlen)
        {
            found = true;
            string which = x.LongestInEnv ? $"environment string {x.LongestIndex}" : $"argument {x.LongestIndex}{(x.LongestIndex == 0 ? " (the program's name as passed)" : "")}";
            yield return new Explanation(Id,
                $"{which} is {atLeast}{N(x.Longest)} bytes long with its NUL, more than MAX_ARG_STRLEN ({N(MaxArgStrlen)} bytes, 32 pages), the most any one argument or environment string may have whatever the stack limit{partial}",
                x.LongestInEnv
                    ? "shorten or unset that environment variable (env -u NAME …), and pass large data in a file or on standard input"
                    : "pass that data another way: in a file, on standard input or through a pipe; no limit raises MAX_ARG_STRLEN");
        }
        string parts = $"{Plural((long)argc, "argument string", "argument strings")} ({N(x.ArgBytes)} bytes with their NULs), " +
                       $"{Plural((long)envc, "environment string", "environment strings")} ({N(x.EnvBytes)} bytes), the program's name ({N(name)} bytes) " +
                       $"and {N(Math.Max(argc, 1) + envc)} pointers of {PointerSize} bytes ({N(pointers)} bytes)";
        if (pointers >= limit)
        {
            found = true;
            yield return new Explanation(Id,
                $"the arguments and environment are {atLeast}{parts}: the pointers alone need {N(pointers)} bytes, not below the {limitWhy}, so execve refused before copying any string{partial}",
                Fix(x.EnvBytes > x.ArgBytes, true, limit, soft, pointers + strings));
        }
        else if (strings > limit - pointers)
        {
            found = true;
            yield return new Explanation(Id,
                $"the arguments and environment need {atLeast}{N(strings + pointers)} bytes on the new program's stack: {parts}; execve allows {limitWhy}{partial}",
                Fix(x.EnvBytes > x.ArgBytes, true, limit, soft, pointers + strings));
        }
        if (found) yield break;
        if (!x.Complete)
        {
            yield return new Explanation(Id,
                $"the arguments and environment counted so far need {N(strings + pointers)} bytes ({parts}) of the {limitWhy}{partial}: the rest was not counted, so which limit was reached is not known",
                Fix(x.EnvBytes > x.ArgBytes, true, limit, soft, strings + pointers), false);
            yield break;
        }
        // Within every limit as counted: a "#!" script's interpreter, its argument and the script's path are added to
        // the strings after this count (binfmt_script), and binfmt_misc may add more.
        yield return new Explanation(Id,
            $"the arguments and environment need {N(strings + pointers)} bytes ({parts}), within the {limitWhy}, and no string is longer than MAX_ARG_STRLEN; " +
            $"the {N(limit - strings - pointers)} bytes left were probably used up by what the kernel adds after counting: a \"#!\" script's interpreter, its argument and the script's path (or a binfmt_misc handler's)",
            Fix(x.EnvBytes > x.ArgBytes, true, limit, soft, strings + pointers), false);
    }

    /// <summary>The name fs/exec.c copies as the first string (bprm->filename), with its NUL.</summary>
    private static ulong FilenameBytes(SyscallEvent ev)
    {
        var pa = SyscallArgs.Paths(ev).FirstOrDefault();
        string path = pa?.Path ?? "";
        if (ev.Syscall == "execveat")
        {
            int dirfd = SyscallArgs.Int(ev, 0);
            if (dirfd != AtFdcwd && !path.StartsWith('/'))
                path = path.Length == 0 ? $"/dev/fd/{dirfd}" : $"/dev/fd/{dirfd}/{path}";
        }
        return (ulong)Encoding.UTF8.GetByteCount(path) + 1;
    }

    private static string LimitWhy(ulong? soft, ulong limit)
    {
        string s = soft is { } v ? $"the stack limit (ulimit -s) is {N(v / 1024)} KiB" : "the stack limit (ulimit -s) is unlimited";
        if (limit == StkLim / 4 * 3 && (soft is null || soft.Value / 4 >= limit))
            return $"{Bytes(limit)}: 3/4 of _STK_LIM ({N(StkLim / 1024)} KiB), the most execve allows whatever the stack limit ({s})";
        if (limit == ArgMax && soft is { } small && small / 4 <= ArgMax)
            return $"{Bytes(limit)}: ARG_MAX, the least execve allows ({s}, a quarter of it is {N(small / 4)} bytes)";
        return $"{Bytes(limit)}: a quarter of the stack limit ({s})";
    }

    private static string Bytes(ulong n) => $"{N(n)} bytes";

    private static string Fix(bool envLarger, bool total, ulong limit, ulong? soft = null, ulong need = 0)
    {
        var sb = new StringBuilder(total
            ? "pass fewer or shorter arguments per run: let xargs split a long list over several runs (find … -exec CMD {} +, printf '%s\\0' … | xargs -0 CMD), or pass the list in a file or on standard input"
            : "pass fewer or shorter arguments (xargs splits a long list over several runs), or the data in a file or on standard input");
        if (envLarger) sb.Append("; the environment is the larger part: unset large variables (env -u NAME CMD)");
        if (!total) return sb.ToString();
        if (limit < StkLim / 4 * 3)
        {
            // the stack limit whose quarter holds what was counted (in KiB, as ulimit -s takes it)
            ulong kib = Math.Min((need * 4 + 1023) / 1024, StkLim * 3 / 1024);
            sb.Append(need * 4 <= StkLim * 3
                ? $"; or raise the stack limit: ulimit -s {N(kib)} (KiB) or more, of which a quarter is allowed"
                : $"; raising the stack limit helps only up to ulimit -s {N(StkLim * 3 / 1024)} (6 MiB allowed), less than this needs");
        }
        else
            sb.Append($"; raising the stack limit does not help: {(soft is null ? "it is unlimited and " : "")}the 6 MiB maximum is reached");
        return sb.ToString();
    }
}
