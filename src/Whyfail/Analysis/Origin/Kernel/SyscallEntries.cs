using Whyfail.Decoding;

namespace Whyfail.Analysis.Origin.Kernel;

/// <summary>
/// The syscall table's x86_64 entry functions (<see cref="SyscallInfo.KernelEntry"/>) against one kernel's
/// symbols: which calls the call graph, `whyfail graph` and the origin planner can start from on it.
/// </summary>
public static class SyscallEntries
{
    /// <summary>The calls with an entry function in the table that <paramref name="has"/> does not know, by number.</summary>
    public static IReadOnlyList<SyscallInfo> Absent(Func<string, bool> has) =>
        SyscallTable.All.Where(s => s.KernelEntry is { } e && !has(e)).ToList();

    /// <summary>Calls that have an entry function in the table.</summary>
    public static int WithEntry => SyscallTable.All.Count(s => s.KernelEntry != null);
}
