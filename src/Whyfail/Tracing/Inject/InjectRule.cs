using System.Globalization;

namespace Whyfail.Tracing.Inject;

/// <summary>
/// strace's <c>when=</c>: <c>FIRST</c>, <c>FIRST+</c>, <c>FIRST+STEP</c>, <c>FIRST..LAST</c>, <c>FIRST..LAST+STEP</c>, counted per
/// rule, per thread and per system call (1 = the first invocation that matches the rule).
/// </summary>
public sealed record InjectWhen(int First, int? Last, int? Step)
{
    /// <summary>Whether the <paramref name="n"/>th matching invocation (1-based) is injected.</summary>
    public bool Selects(long n)
    {
        if (n < First || (Last is { } l && n > l)) return false;
        if (Step is { } s) return (n - First) % s == 0;
        return Last != null || n == First; // FIRST..LAST without a step: every one in the range; FIRST alone: only it
    }

    /// <summary>Every invocation (1+): the same as no when= at all.</summary>
    public bool Always => First == 1 && Last == null && Step == 1;

    public override string ToString() =>
        First.ToString(CultureInfo.InvariantCulture) + (Last is { } l ? ".." + l.ToString(CultureInfo.InvariantCulture) : "") +
        (Step is { } s ? "+" + (s == 1 && Last == null ? "" : s.ToString(CultureInfo.InvariantCulture)) : "");
}

/// <summary>
/// One <c>--inject</c> option: the calls it applies to (a syscall set, possibly negated), what the caller gets (an errno, or a
/// success value with <c>retval=</c>), and the conditions: <c>when=</c>, <c>path=</c> (a glob matched against the call's path
/// argument as the program passed it) and <c>comm=</c> (the thread's name).
/// </summary>
/// <param name="Text">The option as given, for explanations.</param>
/// <param name="Index">1-based position among the --inject options (the first that matches a call decides it).</param>
/// <param name="Syscalls">The syscall numbers the rule applies to (after negation).</param>
public sealed record InjectRule(string Text, int Index, IReadOnlySet<int> Syscalls, int? Error, long? RetVal,
    InjectWhen? When, string? PathGlob, string? Comm)
{
    /// <summary>Decided by the seccomp filter alone (SECCOMP_RET_ERRNO on every call): no path, comm or count condition, an errno.</summary>
    public bool Plain => Error != null && (When == null || When.Always) && PathGlob == null && Comm == null;

    /// <summary>"error=ENOSPC" or "retval=0".</summary>
    public string Action => Error is { } e
        ? $"error={Decoding.Errno.Name(e) ?? e.ToString(CultureInfo.InvariantCulture)}"
        : $"retval={RetVal!.Value.ToString(CultureInfo.InvariantCulture)}";
}
