using Iced.Intel;
using Whyfail.Analysis.Origin.Kernel;
using Whyfail.Decoding;
using Whyfail.Events;

namespace Whyfail.Analysis.Origin.Source;

/// <summary>
/// The error sites of one (function, errno): "exact" when one remains, else "candidates"; "none" when nothing
/// produces it. <paramref name="Probes"/>: where a kprobe sees each site taken (see <see cref="SiteProbe"/>).
/// </summary>
public sealed record ErrorSiteResult(string Function, ulong Address, string Kind, IReadOnlyList<ErrorSite> Sites, IReadOnlyList<SiteProbe>? Probes = null)
{
    public IReadOnlyList<SiteProbe> Probes { get; init; } = Probes ?? [];
}

/// <summary>
/// Finds where a kernel function produces an errno: the instructions in its machine code (and in its
/// ".cold" part, and so in everything inlined into it) that put the negative errno constant somewhere
/// (<c>mov eax, 0xffffffea</c>, <c>mov rax, -2</c> for ERR_PTR, <c>and eax, -22</c> after sbb, …),
/// decoded with Iced from the vmlinux and mapped to source frames by the symbolizer. When the kernel
/// source is available, sites whose line does not name the errno (e.g. an unrelated -1 for EPERM)
/// are dropped unless none would remain. Works from (function name, errno) alone.
/// </summary>
public sealed class ErrorSiteFinder(ElfImage vmlinux, ISymbolizer symbolizer, KernelSource? source = null)
{
    /// <summary>Bytes of a function read at most (the largest kernel functions are a few tens of KB).</summary>
    public const int MaxFunctionBytes = 256 * 1024;

    /// <summary>Mnemonics whose immediate operand produces a value (not a comparison with one).</summary>
    private static readonly HashSet<Mnemonic> Producers = [Mnemonic.Mov, Mnemonic.And, Mnemonic.Or, Mnemonic.Push];

    private readonly Dictionary<(string, int), ErrorSiteResult?> _cache = new();

    /// <summary>The sites of <paramref name="errno"/> in <paramref name="function"/>; null when the function is not in the vmlinux.</summary>
    public ErrorSiteResult? Find(string function, int errno)
    {
        if (_cache.TryGetValue((function, errno), out var known)) return known;
        var result = Compute(function, errno);
        _cache[(function, errno)] = result;
        return result;
    }

    /// <summary>Callees looked into at most, when the origin function itself has no site.</summary>
    public const int MaxCallees = 48;

    private Dictionary<ulong, string>? _byAddress;
    private Dictionary<string, (ulong Start, ulong Size)>? _byName;

    /// <summary>The vmlinux's function symbols (read once): the first of each name, and each address's first name.</summary>
    private void LoadFunctions()
    {
        if (_byName != null) return;
        var all = vmlinux.FunctionSymbols().Where(f => f.Value != 0).ToList();
        _byName = new Dictionary<string, (ulong, ulong)>(StringComparer.Ordinal);
        _byAddress = new Dictionary<ulong, string>();
        foreach (var (name, value, size) in all)
        {
            _byName.TryAdd(name, (value, size));
            _byAddress.TryAdd(value, name);
        }
    }

    private bool TryFunction(string name, out ulong start, out ulong size)
    {
        LoadFunctions();
        (start, size) = _byName!.GetValueOrDefault(name);
        return start != 0;
    }

    private ErrorSiteResult? Compute(string function, int errno)
    {
        var own = ComputeIn(function, errno);
        if (own == null || own.Sites.Count > 0) return own;
        // No constant in the function (and what is inlined into it): the errno came from a callee that was
        // not traced. Its direct callees' sites are the candidates.
        TryFunction(function, out ulong start, out ulong size);
        var code = Decode(start, size);
        var callees = code.Where(i => i.FlowControl is FlowControl.Call or FlowControl.UnconditionalBranch && i.Op0Kind == OpKind.NearBranch64)
            .Select(i => _byAddress!.GetValueOrDefault(i.NearBranch64)).OfType<string>()
            .Where(n => n != function && !n.StartsWith("__x86_", StringComparison.Ordinal)).Distinct().Take(MaxCallees);
        var sites = new List<ErrorSite>();
        var probes = new List<SiteProbe>();
        foreach (var r in callees.Select(c => ComputeIn(c, errno)).OfType<ErrorSiteResult>())
        {
            probes.AddRange(r.Probes.Select(p => p with { Site = p.Site + sites.Count }));
            sites.AddRange(r.Sites);
        }
        string kind = sites.Count switch { 0 => "none", 1 => "exact", _ => "candidates" };
        return own with { Kind = kind, Sites = sites, Probes = probes };
    }

    private ErrorSiteResult? ComputeIn(string function, int errno)
    {
        if (!TryFunction(function, out ulong start, out ulong size)) return null;
        var code = Decode(start, size);
        if (TryFunction(function + ".cold", out ulong cold, out ulong coldSize))
            code.AddRange(Decode(cold, coldSize));

        // One site per source line (the compiler may repeat a constant for one return); every instruction
        // that stands for a site is kept as a probe point of it.
        var sites = new List<ErrorSite>();
        var seen = new Dictionary<(string, int), int>();
        var probes = new List<SiteProbe>();
        var index = new Dictionary<ulong, int>();
        for (int i = 0; i < code.Count; i++) index.TryAdd(code[i].IP, i);
        void Add(ulong address, IReadOnlyList<SourceFrame> frames, ulong block)
        {
            if (frames.Count == 0) return;
            if (!seen.TryGetValue((frames[0].File, frames[0].Line), out int at))
            {
                seen[(frames[0].File, frames[0].Line)] = at = sites.Count;
                sites.Add(new ErrorSite((long)(address - start), frames, source?.Line(frames[0].File, frames[0].Line)?.Trim()));
            }
            probes.Add(SiteProbe.At(code[index[address]], block, at));
        }
        foreach (var (site, entries, block) in ErrorBlocks(code, errno))
        {
            var viaEntries = entries.Count > 1
                ? entries.SelectMany(e => EntryLines(code, index[e], errno).Select(f => (e, f))).ToList()
                : [];
            if (viaEntries.Count > 0)
                foreach (var (e, f) in viaEntries) Add(e, f, block);
            else
                Add(site, symbolizer.Symbolize(site), block);
        }
        if (source != null && Errno.Name(errno) is { } name)
        {
            var named = Enumerable.Range(0, sites.Count).Where(k => sites[k].Text != null && Mentions(sites[k].Text!, name)).ToList();
            if (named.Count > 0 && named.Count < sites.Count)
            {
                var renumber = named.Select((old, k) => (old, k)).ToDictionary(x => x.old, x => x.k);
                sites = named.Select(k => sites[k]).ToList();
                probes = probes.Where(p => renumber.ContainsKey(p.Site)).Select(p => p with { Site = renumber[p.Site] }).ToList();
            }
        }
        string kind = sites.Count switch { 0 => "none", 1 => "exact", _ => "candidates" };
        return new ErrorSiteResult(function, start, kind, sites, probes);
    }

    /// <summary>Lines a shared error block's entries stand for, at most this far from the branch's own line.</summary>
    private const int EntryWindow = 8;

    /// <summary>
    /// The error lines behind a branch into a shared "return -E…" block. Without source: the branch's
    /// own line (the condition). With source: the lines naming the errno from the first line of the
    /// branch's basic block to 3 lines after the branch (the compiler may fold neighbouring checks
    /// into one comparison); none when no such line is there.
    /// </summary>
    private List<IReadOnlyList<SourceFrame>> EntryLines(List<Instruction> code, int at, int errno)
    {
        var frames = symbolizer.Symbolize(code[at].IP);
        if (frames.Count == 0) return [];
        if (source == null || Errno.Name(errno) is not { } name) return [frames];
        var f = frames[0];
        int first = f.Line;
        for (int j = at; j > 0 && code[j - 1].FlowControl is FlowControl.Next or FlowControl.Call && code[j - 1].NextIP == code[j].IP; j--)
            if (symbolizer.Symbolize(code[j - 1].IP) is [var g, ..] && g.File == f.File && g.Line < first && f.Line - g.Line <= EntryWindow)
                first = g.Line;
        var result = new List<IReadOnlyList<SourceFrame>>();
        for (int line = first; line <= f.Line + 3; line++)
            if (source.Line(f.File, line) is { } text && Mentions(text, name))
                result.Add([f with { Line = line }, .. frames.Skip(1)]);
        return result;
    }

    private static bool Mentions(string line, string name)
    {
        int i = line.IndexOf(name, StringComparison.Ordinal);
        return i >= 0 && (i + name.Length == line.Length || !char.IsAsciiLetterOrDigit(line[i + name.Length]) && line[i + name.Length] != '_');
    }

    /// <summary>The instructions of [start, start+size) of the vmlinux, decoded (empty when unreadable).</summary>
    public List<Instruction> Decode(ulong start, ulong size)
    {
        var list = new List<Instruction>();
        if (size == 0) return list;
        var code = new byte[(int)Math.Min(size, MaxFunctionBytes)];
        if (!vmlinux.TryReadVirtual(start, code)) return list;
        var reader = new ByteArrayCodeReader(code);
        var decoder = Iced.Intel.Decoder.Create(64, reader, start, DecoderOptions.None);
        while (reader.CanReadByte)
        {
            decoder.Decode(out var instr);
            list.Add(instr);
        }
        return list;
    }

    /// <summary>
    /// Where the errno is decided, in decoded code (one function and its cold part): each instruction
    /// that produces −errno, with the ways into its block (branches to it, and the instruction that
    /// falls through into it). With several (the compiler merged many "return -EINVAL;" into one
    /// block) the line of the constant says nothing about which return it was: the entries do.
    /// </summary>
    public static IEnumerable<(ulong Site, List<ulong> Entries)> ErrorPoints(List<Instruction> code, int errno) =>
        ErrorBlocks(code, errno).Select(b => (b.Site, b.Entries));

    /// <summary><see cref="ErrorPoints"/>, with the address where each constant's block starts.</summary>
    public static IEnumerable<(ulong Site, List<ulong> Entries, ulong Block)> ErrorBlocks(List<Instruction> code, int errno)
    {
        var entries = new Dictionary<ulong, List<ulong>>();
        foreach (var i in code)
            if (i.FlowControl is FlowControl.ConditionalBranch or FlowControl.UnconditionalBranch && i.Op0Kind == OpKind.NearBranch64)
                (entries.TryGetValue(i.NearBranch64, out var l) ? l : entries[i.NearBranch64] = []).Add(i.IP);
        for (int k = 0; k < code.Count; k++)
        {
            if (!Produces(code[k], errno)) continue;
            // The block holding the constant: back over straight-line code to a branch target.
            int j = k;
            while (j > 0 && !entries.ContainsKey(code[j].IP) && FallsThrough(code[j - 1]) && code[j - 1].NextIP == code[j].IP) j--;
            var into = entries.TryGetValue(code[j].IP, out var l) ? new List<ulong>(l) : [];
            if (j > 0 && FallsThrough(code[j - 1]) && code[j - 1].NextIP == code[j].IP) into.Add(code[j - 1].IP);
            yield return (code[k].IP, into, code[j].IP);
        }
    }

    private static bool FallsThrough(in Instruction i) =>
        i.FlowControl is FlowControl.Next or FlowControl.Call or FlowControl.ConditionalBranch or FlowControl.IndirectCall;

    /// <summary>Whether the instruction puts −errno (32- or 64-bit) somewhere.</summary>
    public static bool Produces(in Instruction instr, int errno)
    {
        if (instr.IsInvalid || !Producers.Contains(instr.Mnemonic)) return false;
        long want = -errno;
        for (int i = 0; i < instr.OpCount; i++)
        {
            var kind = instr.GetOpKind(i);
            if (kind is not (OpKind.Immediate32 or OpKind.Immediate32to64 or OpKind.Immediate8to32 or OpKind.Immediate8to64 or OpKind.Immediate64))
                continue;
            ulong imm = instr.GetImmediate(i);
            if (kind is OpKind.Immediate32 or OpKind.Immediate8to32 ? (uint)imm == unchecked((uint)(int)want) : (long)imm == want)
                return true;
        }
        return false;
    }
}
