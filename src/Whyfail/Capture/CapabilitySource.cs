using Whyfail.Capture.Bpf;
using Whyfail.Capture.Origin;

namespace Whyfail.Capture;

/// <summary>Where denied capability checks come from on this kernel.</summary>
public enum CapabilitySourceKind
{
    None,
    /// <summary>The capability:cap_capable tracepoint (Linux 6.14+).</summary>
    Tracepoint,
    /// <summary>A BPF trampoline on cap_capable's return (older kernels that allow fexit).</summary>
    Fexit,
    /// <summary>A kprobe on cap_capable's entry (keeps the arguments) and a kretprobe on its return.</summary>
    Kprobe,
}

/// <summary>
/// Chooses the source of capability evidence: the tracepoint when the kernel has it; else cap_capable
/// itself (int cap_capable(const struct cred *, struct user_namespace *targ_ns, int cap, unsigned int opts),
/// the same since Linux 5.1 and checked through BTF for fexit), with fexit where the kernel allows
/// trampolines and kprobes otherwise. All sources fill the same evidence record (bpf/whyfail.bpf.c).
/// </summary>
public sealed record CapabilitySource(CapabilitySourceKind Kind, string Detail)
{
    public const string Function = "cap_capable";

    /// <summary>The BPF programs (bpf/whyfail.bpf.c) each source loads and attaches.</summary>
    private static readonly Dictionary<CapabilitySourceKind, string[]> ProgramsOf = new()
    {
        [CapabilitySourceKind.None] = [],
        [CapabilitySourceKind.Tracepoint] = [BpfPrograms.OnCapCapable],
        [CapabilitySourceKind.Fexit] = [BpfPrograms.CapCapableFexit],
        [CapabilitySourceKind.Kprobe] = [BpfPrograms.CapCapableEntry, BpfPrograms.CapCapableReturn],
    };

    /// <summary>Every capability program; those of other sources are not loaded.</summary>
    public static IEnumerable<string> AllPrograms => ProgramsOf.Values.SelectMany(p => p);

    public IReadOnlyList<string> Programs => ProgramsOf[Kind];

    public string Name => Kind.ToString().ToLowerInvariant();

    /// <summary>
    /// Environment variable that starts the choice at a given fallback (fexit, kprobe or none), skipping the
    /// better ones: for tests of the fallbacks, and for a kernel where one of them misbehaves.
    /// </summary>
    public const string ForceVariable = "WHYFAIL_CAPABILITY_SOURCE";

    /// <summary>The best source this kernel offers, then the fallbacks after it (ending with None).</summary>
    public static IReadOnlyList<CapabilitySource> Candidates()
    {
        var all = Detect();
        if (Environment.GetEnvironmentVariable(ForceVariable) is not { Length: > 0 } forced)
            return all;
        if (!Enum.TryParse<CapabilitySourceKind>(forced, ignoreCase: true, out var kind) || kind == CapabilitySourceKind.None)
            return [new(CapabilitySourceKind.None, $"{ForceVariable}={forced}")];
        var rest = all.SkipWhile(c => c.Kind != kind).ToList();
        return rest.Count > 0 ? rest : [new(CapabilitySourceKind.None, $"{ForceVariable}={forced}, which this kernel does not offer")];
    }

    private static IReadOnlyList<CapabilitySource> Detect()
    {
        if (KernelChecks.HasTracepoint(Function))
            return [new(CapabilitySourceKind.Tracepoint, "capability:cap_capable tracepoint"), new(CapabilitySourceKind.None, "")];
        const string noTp = "no capability:cap_capable tracepoint (Linux 6.14+)";
        var list = new List<CapabilitySource>();
        string? fexitRefused = OriginBackends.ProbeFexit();
        bool btf = KernelChecks.HasFunction(Function);
        if (fexitRefused == null && btf)
            list.Add(new(CapabilitySourceKind.Fexit, $"fexit on {Function} ({noTp})"));
        bool kprobes = File.Exists(OriginBackends.KprobePmu);
        if (kprobes)
            list.Add(new(CapabilitySourceKind.Kprobe, $"kprobe and kretprobe on {Function} ({noTp}; " +
                (fexitRefused != null ? $"fexit refused: {fexitRefused})" : !btf ? $"no BTF for {Function})" : "fexit not loaded)")));
        string why = $"{noTp}, " +
            (fexitRefused != null ? $"fexit refused ({fexitRefused})" : !btf ? $"no BTF for {Function}" : "fexit failed") +
            (kprobes ? ", kprobes failed" : $", no kprobes ({OriginBackends.KprobePmu} is missing)");
        list.Add(new(CapabilitySourceKind.None, why));
        return list;
    }

    /// <summary>What the first candidate is, as `whyfail doctor` reports it.</summary>
    public static CapabilitySource Best() => Candidates()[0];

    /// <summary>Why the kernel refused a program: the message and the verifier's last word (the line before the end of its log).</summary>
    public static string Reason(WhyfailException e)
    {
        var lines = (e.Detail ?? "").Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        int end = Array.FindIndex(lines, l => l.Contains("END PROG LOAD LOG"));
        // The verifier's statistics ("processed N insns …", "verification time …") follow its verdict.
        int last = Array.FindLastIndex(lines, Math.Max(end - 1, 0), l => !l.StartsWith("processed ") && !l.StartsWith("verification time"));
        return end > 0 && last >= 0 ? $"{e.Message}: {lines[last]}" : e.Message;
    }

    /// <summary>The next candidate after this one failed to load or attach, with the reason folded into its detail.</summary>
    public static CapabilitySource After(IReadOnlyList<CapabilitySource> candidates, CapabilitySource failed, string reason)
    {
        int i = candidates.ToList().FindIndex(c => c.Kind == failed.Kind);
        var next = candidates[Math.Min(i + 1, candidates.Count - 1)];
        return next.Kind == CapabilitySourceKind.None
            ? next with { Detail = $"{failed.Name} on {Function} refused by this kernel ({reason})" }
            : next with { Detail = $"{next.Detail}; {failed.Name} refused: {reason}" };
    }
}
