using Whyfail.Decoding;
using Whyfail.Events;

namespace Whyfail.Analysis.Origin.Resolve;

/// <summary>Kernel address → "function" and offset.</summary>
public interface IKernelSymbols
{
    /// <summary>The function containing <paramref name="address"/>, or null.</summary>
    string? Lookup(ulong address, out ulong offset);
}

/// <summary>
/// Turns the error returns recorded during one failing call into its origin: the innermost kernel
/// function that returned the errno the syscall returned, and the chain it climbed.
///
/// Records arrive in return order (innermost first). Starting from the last one (the outermost
/// traced function), the chain walks back in time to records that are strictly deeper on the stack
/// (lower stack address) and whose kernel stack contains the current chain link as a caller, which
/// excludes failures in sibling calls that were handled.
/// </summary>
public sealed class OriginResolver(IKernelSymbols symbols, IReadOnlyList<string> attachedFunctions, string backend, int maxStackFrames = 8)
{
    public Events.Origin? Resolve(SyscallEvent ev)
    {
        var recs = ev.OriginRecords;
        if (recs.Count == 0) return null;
        long want = ev.KernelRet;

        var names = recs.Select(Name).ToArray();
        var chain = new List<int> { recs.Count - 1 };
        for (int i = recs.Count - 2; i >= 0; i--)
        {
            int cur = chain[^1];
            if (recs[i].StackPointer >= recs[cur].StackPointer) continue;
            if (IsCalledFrom(recs[i], names[cur]) || ExtendsStack(recs[i].Stack, recs[cur].Stack)
                || (recs[i].Stack.Count >= maxStackFrames && recs[i].Ret == recs[cur].Ret))
                chain.Add(i);
        }
        chain.Reverse(); // innermost first

        // The origin: the innermost link that returned the syscall's own error value.
        int originAt = chain.FindIndex(i => recs[i].Ret == want);
        bool exact = originAt >= 0;
        if (!exact) originAt = 0;
        var originRec = recs[chain[originAt]];

        var changes = new List<string>();
        for (int k = 1; k < chain.Count; k++)
        {
            var (inner, outer) = (recs[chain[k - 1]], recs[chain[k]]);
            if (inner.Ret != outer.Ret)
                changes.Add($"{names[chain[k - 1]]} returned {ErrName(inner.Ret)}, {names[chain[k]]} returned {ErrName(outer.Ret)}");
        }
        if (recs[chain[^1]].Ret != want)
            changes.Add($"{names[chain[^1]]} returned {ErrName(recs[chain[^1]].Ret)}, the syscall returned {ErrName(want)}");

        // Callers at the origin, from its kernel stack (traced or not).
        var stack = new List<string>();
        foreach (var a in originRec.Stack)
        {
            var s = symbols.Lookup(a, out ulong off);
            if (s == null || s.StartsWith("bpf_trampoline") || s.StartsWith("bpf_prog_") || s == "__bpf_prog_exit") continue;
            stack.Add(off != 0 ? $"{s}+0x{off:x}" : s);
        }

        string confidence = !exact ? "low"
            : ev.OriginDropped > 0 ? "medium"
            : recs[chain[^1]].Ret == want ? "high" : "medium";
        return new Events.Origin
        {
            Function = names[chain[originAt]],
            Offset = 0,
            Chain = chain.Skip(originAt).Select(i => names[i]).ToList(),
            ErrnoChanges = changes,
            Backend = backend,
            Confidence = confidence,
            Stack = stack,
            Inner = chain.Take(originAt).Select(i => $"{names[i]} ({ErrName(recs[i].Ret)})").ToList(),
        };
    }

    public string Name(OriginRecord r)
    {
        if (r.IsIndex)
            return r.Function < (ulong)attachedFunctions.Count ? attachedFunctions[(int)r.Function] : $"function#{r.Function}";
        return symbols.Lookup(r.Function, out _) ?? $"0x{r.Function:x}";
    }

    /// <summary>
    /// Whether a call with stack <paramref name="inner"/> ran below a function whose callers were
    /// <paramref name="outer"/>: the outer function's return address (exact, so another call site of
    /// the same parent does not match) appears deeper in the inner stack, followed by the same frames.
    /// This also covers outer functions that tail-called (jumped) into their callee and so never
    /// appear in its stack themselves.
    /// </summary>
    internal static bool ExtendsStack(IReadOnlyList<ulong> inner, IReadOnlyList<ulong> outer)
    {
        if (outer.Count == 0) return inner.Count > 0;
        for (int j = 1; j < inner.Count; j++)
        {
            if (inner[j] != outer[0]) continue;
            int n = Math.Min(inner.Count - j, outer.Count);
            bool same = true;
            for (int k = 1; k < n && same; k++) same = inner[j + k] == outer[k];
            if (same) return true;
        }
        return false;
    }

    private bool IsCalledFrom(OriginRecord r, string caller)
    {
        foreach (var a in r.Stack)
            if (symbols.Lookup(a, out _) == caller) return true;
        return false;
    }

    private static string ErrName(long ret) => ret < 0 && ret >= -4095 ? "-" + (Errno.Name((int)-ret) ?? (-ret).ToString()) : ret.ToString();
}
