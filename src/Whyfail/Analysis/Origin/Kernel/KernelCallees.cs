using Iced.Intel;
using Whyfail.Analysis.Origin.Resolve;
using Whyfail.Analysis.Origin.Source;

namespace Whyfail.Analysis.Origin.Kernel;

/// <summary>
/// <see cref="ICalleeFacts"/> from the running kernel's text (/proc/kcore, patched: retpolines already turned
/// into CALL reg where the CPU allows), decoded with Iced like <see cref="CallGraph"/>: one function and its
/// ".cold" parts. The text is opened on first use (only when an origin needs it) and each answer is cached.
/// </summary>
public sealed class KernelCallees(Kallsyms symbols, Func<IKernelTextReader> open) : ICalleeFacts, IDisposable
{
    private const int MaxBytes = 64 * 1024;
    private readonly Dictionary<(string, int), CalleeFacts?> _cache = new();
    // Infrastructure the call graph never watches (scheduling, locking, allocation): not where an errno is born.
    private readonly CallGraphDenylist _deny = CallGraphDenylist.For(new CallGraphOptions());
    private IKernelTextReader? _text;
    private bool _failed;

    public static KernelCallees ForRunningKernel(Kallsyms symbols, string? vmlinux) =>
        new(symbols, () => KernelText.Open(symbols, vmlinux, runningBuildId: KernelBuildId.FromNotes()));

    public CalleeFacts? Of(string function, int errno)
    {
        if (_cache.TryGetValue((function, errno), out var known)) return known;
        CalleeFacts? facts = null;
        if (symbols.CountNamed(function) == 1 && symbols.TryGetSymbol(function, out var sym) && Text() is { } text)
        {
            var direct = new List<string>();
            int indirect = 0;
            bool makes = false;
            var seenCold = new HashSet<ulong>();
            if (Scan(text, sym, errno, direct, ref indirect, ref makes, seenCold))
                facts = new CalleeFacts(direct.Distinct(StringComparer.Ordinal).ToList(), indirect, makes);
        }
        _cache[(function, errno)] = facts;
        return facts;
    }

    /// <summary>
    /// Opens the kernel's text and readies the decoder now (on the caller's thread: the resolver's reads), rather than at
    /// the first origin, which in a short command's run is at its end.
    /// </summary>
    public void Warm()
    {
        if (Text() is not { } text || !(symbols.TryGetAddress("_text", out ulong at) || symbols.TryGetAddress("_stext", out at))) return;
        var code = new byte[16];
        if (!text.TryRead(at, code)) return;
        var decoder = Decoder.Create(64, new ByteArrayCodeReader(code), at, DecoderOptions.None);
        decoder.Decode(out var instr);
        _ = ErrorSiteFinder.Produces(instr, 1);
    }

    private IKernelTextReader? Text()
    {
        if (_text != null || _failed) return _text;
        try
        {
            _text = open();
        }
        catch (Exception e) when (e is KernelAnalysisException or IOException or UnauthorizedAccessException)
        {
            _failed = true;
        }
        return _text;
    }

    private bool Scan(IKernelTextReader text, KernelSymbol sym, int errno, List<string> direct, ref int indirect, ref bool makes, HashSet<ulong> seenCold)
    {
        int length = sym.Size == 0 ? 4096 : (int)Math.Min(sym.Size, MaxBytes);
        var code = new byte[length];
        while (!text.TryRead(sym.Address, code.AsSpan(0, length)))
        {
            if (length <= 64) return false;
            length /= 2;
        }
        var reader = new ByteArrayCodeReader(code, 0, length);
        var decoder = Decoder.Create(64, reader, sym.Address, DecoderOptions.None);
        ulong end = sym.Address + (ulong)length;
        while (reader.CanReadByte)
        {
            decoder.Decode(out var instr);
            if (instr.IsInvalid) continue;
            if (ErrorSiteFinder.Produces(instr, errno)) makes = true;
            switch (instr.FlowControl)
            {
                case FlowControl.IndirectCall:
                    indirect++;
                    continue;
                case FlowControl.IndirectBranch when instr.Op0Kind == OpKind.Register:
                    indirect++; // a tail call through a function pointer
                    continue;
                case FlowControl.Call or FlowControl.UnconditionalBranch or FlowControl.ConditionalBranch when instr.Op0Kind == OpKind.NearBranch64:
                    break;
                default:
                    continue;
            }
            ulong target = instr.NearBranch64;
            bool call = instr.FlowControl == FlowControl.Call;
            if (!call && target >= sym.Address && target < end) continue; // a jump inside the function
            if (symbols.IsIndirectThunk(target))
            {
                // CALL/JMP __x86_indirect_thunk_rax (a retpoline left in place: CPUs without eIBRS, TCG), or an ITS or
                // call-depth thunk; the jump form is a tail call through a function pointer.
                indirect++;
                continue;
            }
            if (!symbols.TryFind(target, out var t)) continue;
            if (t.Name.EndsWith(".cold", StringComparison.Ordinal) || t.Name.Contains(".cold.", StringComparison.Ordinal))
            {
                if (seenCold.Add(t.Address)) Scan(text, t, errno, direct, ref indirect, ref makes, seenCold);
                continue;
            }
            if (t.Address != target)
            {
                if ((t.Name.StartsWith("__pfx_", StringComparison.Ordinal) || t.Name.StartsWith("__cfi_", StringComparison.Ordinal))
                    && symbols.TryFindNext(t, out var next) && next.Address - target <= 64)
                    t = next;
                else
                    continue;
            }
            if (t.Name.StartsWith("__SCT__", StringComparison.Ordinal))
            {
                var tramp = new byte[16];
                if (!text.TryRead(t.Address, tramp) || CallSiteScanner.TrampolineTarget(tramp, t.Address) is not { } to
                    || !symbols.TryFindStart(to, out t) || t.Name.StartsWith("__SCT__", StringComparison.Ordinal))
                    continue;
            }
            if (t.Name != sym.Name && !_deny.IsDenied(t.Name)) direct.Add(t.Name);
        }
        return true;
    }

    public void Dispose() => (_text as IDisposable)?.Dispose();
}
