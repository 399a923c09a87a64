using System.Buffers.Binary;
using Whyfail.Events;

namespace Whyfail.Analysis.Probe;

/// <summary>
/// Speculative tracing (SystemTap's speculate/commit/discard): every record of a probed call is kept per
/// thread until the call returns; then the --when condition decides whether the call is reported (its
/// arguments, the lines it executed with the locals at each, its return value) or forgotten. Counts what
/// whythefail.stp counts.
/// </summary>
public sealed class ProbeSpeculation(ProbePlan plan, WhenCondition when, ProbeStats stats, Action<ProbeCall> report)
{
    /// <summary>Line records kept per call; beyond, the call's report says how many were left out.</summary>
    public const int MaxLinesPerCall = 4096;
    public const int StackBytes = 512, ReadsAt = 512;

    private sealed class OpenCall(int function, ProbeHit entry)
    {
        public int Function { get; } = function;
        public ProbeHit Entry { get; } = entry;
        public List<ProbeHit> Lines { get; } = [];
    }

    private readonly Dictionary<int, List<OpenCall>> _open = [];

    public void Handle(ProbeHit hit)
    {
        switch (hit.Kind)
        {
            case ProbeHitKind.Entry:
                stats.Entries++;
                if (!_open.TryGetValue(hit.Tid, out var stack)) _open[hit.Tid] = stack = [];
                stack.Add(new OpenCall(hit.Index, hit));
                break;
            case ProbeHitKind.Line:
                stats.LinesSeen++;
                if ((uint)hit.Index >= (uint)plan.Lines.Count || !_open.TryGetValue(hit.Tid, out var s)) break;
                int fn = plan.Lines[hit.Index].Function;
                for (int i = s.Count - 1; i >= 0; i--)
                    if (s[i].Function == fn)
                    {
                        if (s[i].Lines.Count < MaxLinesPerCall) s[i].Lines.Add(hit);
                        break;
                    }
                break;
            case ProbeHitKind.Exit:
                if (!_open.TryGetValue(hit.Tid, out var st)) break;
                int at = st.FindLastIndex(c => c.Function == hit.Index);
                if (at < 0) break;
                var call = st[at];
                st.RemoveRange(at, st.Count - at); // calls above it lost their return (ring buffer full)
                if (st.Count == 0) _open.Remove(hit.Tid);
                if ((uint)hit.Index >= (uint)plan.Targets.Count) break;
                var target = plan.Targets[hit.Index];
                long ret = target.Signature.Return(hit.Ret);
                if (!when.Matches(ret))
                {
                    stats.ExitsNotMatching++;
                    break;
                }
                stats.ExitsMatching++;
                report(Build(target, call, hit, ret));
                break;
        }
    }

    private ProbeCall Build(ProbeTarget target, OpenCall call, ProbeHit exit, long ret)
    {
        var lines = new List<ProbeLine>();
        ulong cfa = call.Entry.Regs[7] + 8; // the stack pointer at entry points at the return address
        foreach (var hit in call.Lines)
        {
            var lt = plan.Lines[hit.Index];
            var dwarf = target.Dwarf!;
            var reads = new Dictionary<(int, long), ulong>();
            for (int i = 0; i < lt.Reads.Count; i++)
                if ((hit.ReadOk & (1u << i)) != 0 && ReadsAt + i * 8 + 8 <= hit.Data.Length)
                    reads[(lt.Reads[i].Reg, lt.Reads[i].Off)] = BinaryPrimitives.ReadUInt64LittleEndian(hit.Data.AsSpan(ReadsAt + i * 8));
            var state = new MachineState(hit.Regs, hit.Data, Math.Min(hit.StackLength, StackBytes), cfa, reads);
            var locals = Locals(dwarf, lt.Probe.Address, state);
            foreach (int line in lt.Probe.Lines)
                lines.Add(new ProbeLine(dwarf.File, line, lt.Probe.Address, locals));
        }
        return new ProbeCall
        {
            Function = target.Name,
            Pid = exit.Pid,
            Tid = exit.Tid,
            Comm = exit.Comm,
            Return = ret,
            ReturnText = target.Signature.ReturnText(exit.Ret),
            Args = target.Signature.Arguments(call.Entry),
            Lines = lines,
            DurationNs = exit.Time - call.Entry.Time,
        };
    }

    /// <summary>The locals in scope at a line's address: their value, or ? where the DWARF gives no location there (or one not understood).</summary>
    public static List<ProbeValue> Locals(DwarfFunction dwarf, ulong linkAddress, MachineState state)
    {
        var list = new List<ProbeValue>();
        foreach (var v in dwarf.Variables)
        {
            if (!v.InScope(linkAddress)) continue;
            int? size = v.Size;
            var loc = v.At(linkAddress);
            string text = loc == null ? "?"
                : size == null ? "{...}"
                : LocalValues.Format(LocalValues.Evaluate(loc.Expression, size, state, dwarf.FrameBaseIsCfa), size);
            list.Add(new ProbeValue(v.Name, text));
        }
        return list;
    }
}
