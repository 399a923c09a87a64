using System.Diagnostics;
using Whyfail.Analysis.Origin.Kernel;
using Whyfail.Analysis.Origin.Resolve;

namespace Whyfail.Analysis.Origin;

/// <summary>
/// Chooses the kernel functions to watch for error returns: the static call graph of each deep
/// syscall (computed from the running kernel's machine code, cached per kernel build), merged
/// within a budget.
/// </summary>
public static class OriginPlanner
{
    /// <summary>--deep auto: the syscalls that fail most often in practice and whose errors are hard to place.</summary>
    public static readonly IReadOnlyList<string> DefaultSyscalls =
    [
        "openat", "execve", "connect", "bind", "unlinkat", "mkdirat", "renameat2", "write", "perf_event_open",
        "io_uring_setup", "bpf", "mount", "kill", "ptrace", "setns", "unshare", "socket", "ioctl",
    ];

    /// <summary>--deep auto: the syscall whose call graph is attached first (the most common failure by far).</summary>
    public const string First = "openat";

    /// <param name="PerSyscall">For each planned syscall, its functions within <paramref name="Functions"/>, shallowest first.</param>
    public sealed record Plan(IReadOnlyList<string> Functions, IReadOnlyList<string> Syscalls, string TextSource, TimeSpan Elapsed, bool Truncated,
        IReadOnlyList<(string Syscall, IReadOnlyList<string> Functions)> PerSyscall);

    /// <summary>Builds the watch list; kernel facts that are missing are reported through <paramref name="notice"/> and yield an empty plan.</summary>
    public static Plan Make(IReadOnlyList<string> syscalls, int budget, Action<string> notice, string? vmlinux = null)
    {
        var sw = Stopwatch.StartNew();
        CallGraph? graph = null; // built only on a cache miss: loading it costs seconds on slow machines
        try
        {
            var cache = new CallGraphCache();
            string build = KernelBuildId.Current();
            var opts = new CallGraphOptions();
            var all = new List<string>();
            var seen = new HashSet<string>();
            var perSyscall = new List<IReadOnlyList<string>>();
            var planned = new List<string>();
            foreach (var sc in syscalls)
            {
                try
                {
                    perSyscall.Add(cache.GetOrCompute(build, sc, opts, () => (graph ??= CallGraph.ForRunningKernel(vmlinux)).FunctionsFor(sc, opts), w => notice(w)));
                    planned.Add(sc);
                }
                catch (MissingEntryException e)
                {
                    // One syscall this kernel lacks (newer, removed, configured out): the others keep their origins.
                    notice($"kernel origins: {e.Syscall} is left out: {e.Message}");
                }
            }
            // Round-robin by depth order so every syscall keeps its shallow (most useful) functions within the budget.
            bool truncated = false;
            for (int i = 0; ; i++)
            {
                bool any = false;
                foreach (var list in perSyscall)
                {
                    if (i >= list.Count) continue;
                    any = true;
                    if (all.Count >= budget) { truncated = true; break; }
                    if (seen.Add(list[i])) all.Add(list[i]);
                }
                if (!any || truncated) break;
            }
            var kept = new HashSet<string>(all, StringComparer.Ordinal);
            var bySyscall = planned.Select((sc, i) => (sc, (IReadOnlyList<string>)perSyscall[i].Where(kept.Contains).Distinct().ToList())).ToList();
            return new Plan(all, planned, graph?.TextSource ?? "the call graph cache", sw.Elapsed, truncated, bySyscall);
        }
        catch (KernelAnalysisException e)
        {
            notice($"no kernel origins: the functions to watch could not be chosen: {e.Message}");
            return new Plan([], syscalls, "", sw.Elapsed, false, []);
        }
        finally
        {
            graph?.Dispose();
        }
    }
}

/// <summary><see cref="IKernelSymbols"/> over /proc/kallsyms.</summary>
public sealed class KallsymsSymbols(Kallsyms kallsyms) : IKernelSymbols
{
    public string? Lookup(ulong address, out ulong offset)
    {
        if (kallsyms.TryFind(address, out var s))
        {
            offset = address - s.Address;
            return s.Name;
        }
        offset = 0;
        return null;
    }
}
