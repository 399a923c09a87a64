using Whyfail.Analysis.Origin.Resolve;

namespace Whyfail.Tests.Origin;

/// <summary>Kernel symbols from a table of function start addresses (an address belongs to the nearest start below it).</summary>
public sealed class TableSymbols(Dictionary<ulong, string> starts) : IKernelSymbols
{
    public string? Lookup(ulong address, out ulong offset)
    {
        var best = starts.Keys.Where(a => a <= address).DefaultIfEmpty(0UL).Max();
        offset = address - best;
        return best == 0 ? null : starts[best];
    }
}
