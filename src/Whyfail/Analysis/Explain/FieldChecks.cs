using System.Globalization;
using Whyfail.Events;

namespace Whyfail.Analysis.Explain;

/// <summary>
/// One of the kernel's own checks on the argument struct of a call (clone_args, io_uring_params), as data: the field
/// it names, whether the captured values fail it, the sentence saying how, the errno the kernel then returns, and
/// whether the capture alone proves it (<see cref="Certain"/>) or the rule infers it (the sentence says "probably").
/// </summary>
/// <typeparam name="T">What the rule read from the capture and the live state.</typeparam>
internal sealed record FieldCheck<T>(string Field, Func<T, bool> Fails, Func<T, string> Says, string Fix,
    bool Certain = true, int Errno = Errnos.EINVAL);

/// <summary>Runs a table of <see cref="FieldCheck{T}"/> in the kernel's order.</summary>
internal static class FieldChecks
{
    /// <summary>
    /// The explanations of every check of <paramref name="table"/> that fails for <paramref name="values"/> and
    /// matches the call's errno, in table order (the kernel stops at the first; each one alone is a cause). A check
    /// without a field (an argument of the call) says its whole sentence.
    /// </summary>
    public static List<Explanation> Run<T>(string rule, string structName, IEnumerable<FieldCheck<T>> table, T values, int errno) =>
        table.Where(c => c.Errno == errno && c.Fails(values))
             .Select(c => new Explanation(rule, c.Field.Length > 0 ? $"{structName}.{c.Field} {c.Says(values)}" : c.Says(values), c.Fix, c.Certain))
             .ToList();

    public static string Hex(ulong v) => "0x" + v.ToString("x", CultureInfo.InvariantCulture);

    public static string Dec(ulong v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>The running kernel's major.minor (from its release, uname -r), or null.</summary>
    public static Version? KernelVersion()
    {
        var parts = Origin.Kernel.KernelBuildId.Release().Split('.', '-', '+');
        return parts.Length >= 2 && int.TryParse(parts[0], CultureInfo.InvariantCulture, out var major) &&
               int.TryParse(parts[1], CultureInfo.InvariantCulture, out var minor)
            ? new Version(major, minor) : null;
    }
}
