using Whyfail.Analysis.Origin.Kernel;
using Whyfail.Events;

namespace Whyfail.Analysis.Origin;

/// <summary>
/// --args: types the arguments recorded with origin records from the kernel's BTF (<see cref="FunctionSignature"/>,
/// as `whyfail probe` prints them: structs one level deep, strings, pointers as addresses) and gives each function
/// of an origin's chain its own (<see cref="Events.Origin.ChainArgs"/>). Without BTF the values are shown raw.
/// </summary>
public sealed class ChainArguments(BtfTypeTable? btf)
{
    private readonly Dictionary<string, FunctionSignature> _signatures = new(StringComparer.Ordinal);

    /// <summary>Whether the arguments are typed (BTF was readable).</summary>
    public bool Typed => btf != null;

    /// <summary>With the running kernel's BTF (<see cref="BtfTypeTable.Running"/>), read now: before the command starts, so the first failure waits for nothing.</summary>
    public static ChainArguments ForRunningKernel()
    {
        try
        {
            return new(File.Exists(Capture.KernelChecks.BtfPath) ? BtfTypeTable.Running : null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or KernelAnalysisException)
        {
            return new(null);
        }
    }

    /// <summary>Fills the chain's arguments from the event's origin records.</summary>
    public void Apply(SyscallEvent ev)
    {
        if (ev.Origin is not { } o || ev.OriginArgs.Count == 0 || o.ChainRecords.Count != o.Chain.Count) return;
        var list = new IReadOnlyList<ProbeValue>?[o.Chain.Count];
        for (int i = 0; i < list.Length; i++)
            if (o.ChainRecords[i] is int r && r >= 0 && r < ev.OriginArgs.Count && ev.OriginArgs[r] is { } a)
                list[i] = Format(o.Chain[i], a);
        if (list.Any(l => l != null)) o.ChainArgs = list;
    }

    /// <summary>One function's arguments, named and typed; null when its entry was not seen (a kretprobe that missed it).</summary>
    public IReadOnlyList<ProbeValue>? Format(string function, OriginCallArgs args)
    {
        if (!args.EntrySeen) return null;
        if (!_signatures.TryGetValue(function, out var sig))
            _signatures[function] = sig = FunctionSignature.For(function, btf);
        if (!sig.Known)
            return args.Values.Select((v, i) => new ProbeValue($"arg{i + 1}", $"0x{v:x}")).ToList();
        return sig.Arguments(args);
    }
}
