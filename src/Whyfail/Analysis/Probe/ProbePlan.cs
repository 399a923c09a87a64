using Whyfail.Analysis.Origin.Kernel;

namespace Whyfail.Analysis.Probe;

/// <summary>A probed function: its BTF signature, its DWARF (with --lines), and its live address.</summary>
public sealed record ProbeTarget(string Name, FunctionSignature Signature, DwarfFunction? Dwarf, ulong LiveAddress);

/// <summary>A line probe: the function it belongs to, the lines that begin at its address, the memory reads its locals need.</summary>
public sealed record LineTarget(int Function, DwarfLineProbe Probe, ulong LiveAddress, IReadOnlyList<(int Reg, long Off, int Size)> Reads);

/// <summary>What `whyfail probe` attaches: the functions (index = bpf cookie of entry and exit) and the line probes (index = cookie).</summary>
public sealed class ProbePlan
{
    public const int MaxReads = 8;

    public required IReadOnlyList<ProbeTarget> Targets { get; init; }
    public required IReadOnlyList<LineTarget> Lines { get; init; }

    /// <summary>The line probes of the targets' DWARF, at most <paramref name="maxLines"/>, with the reads their locals need.</summary>
    public static List<LineTarget> LinesOf(IReadOnlyList<ProbeTarget> targets, long slide, int maxLines)
    {
        var lines = new List<LineTarget>();
        for (int f = 0; f < targets.Count; f++)
        {
            if (targets[f].Dwarf is not { } dwarf) continue;
            foreach (var probe in dwarf.LineProbes)
            {
                if (lines.Count >= maxLines) return lines;
                var reads = new List<(int, long, int)>();
                foreach (var v in dwarf.Variables)
                {
                    if (!v.InScope(probe.Address) || v.At(probe.Address) is not { } loc) continue;
                    if (LocalValues.ReadNeeded(loc.Expression, v.Size ?? 0) is { } r && !reads.Contains(r) && reads.Count < MaxReads)
                        reads.Add(r);
                }
                lines.Add(new LineTarget(f, probe, unchecked(probe.Address + (ulong)slide), reads));
            }
        }
        return lines;
    }
}
