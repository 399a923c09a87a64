using Whyfail.Events;

namespace Whyfail.Analysis.Origin.Resolve;

/// <summary>What the resolver needs to know about a kernel function's return type.</summary>
public interface IReturnKinds
{
    /// <summary>True when the function's return type cannot hold a -errno (bool, void, char/u8/u16): an error cannot climb through it.</summary>
    bool CannotCarryErrno(string function);

    /// <summary>True when the function's return type can hold a -errno (int/long-sized integers, pointers).</summary>
    bool CanCarryErrno(string function);

    /// <summary>The return type as C spells it ("bool"), or null when unknown.</summary>
    string? ReturnType(string function);
}

/// <summary>One function on the way from the origin to the syscall entry.</summary>
/// <param name="Name">The function.</param>
/// <param name="Record">Index of its error-return record, or -1 when it was seen only on a kernel stack.</param>
/// <param name="CallOffset">Offset in <paramref name="Name"/> of the return address of its call into the link below (0: unknown).</param>
/// <param name="Attached">Whether its returns were being watched.</param>
public readonly record struct ChainLink(string Name, int Record, ulong CallOffset, bool Attached)
{
    public bool Traced => Record >= 0;
}

/// <summary>
/// Fills the gaps between watched functions with the functions the kernel stack shows between them:
/// the ones reached through function pointers (file operations, sysctl handlers, LSM hooks) that no
/// static call graph sees, and the ones not watched for other reasons.
/// </summary>
public static class StackChain
{
    /// <summary>
    /// Names bpf_get_stack reports for the BPF and ftrace machinery itself: fexit trampolines, programs, and on 6.1 the
    /// ftrace trampoline a function watched both by fexit and by an ftrace user (a kprobe) is entered through.
    /// </summary>
    public static bool IsBpfFrame(string name) =>
        name.StartsWith("bpf_prog_", StringComparison.Ordinal) || name.StartsWith("__bpf_prog_e", StringComparison.Ordinal)
        || IsTrampoline(name);

    /// <summary>A trampoline: the frame right above it is the watched function's entry ("fn+0x5", its call into the trampoline).</summary>
    private static bool IsTrampoline(string name) =>
        name.StartsWith("bpf_trampoline", StringComparison.Ordinal) || name.StartsWith("ftrace_trampoline", StringComparison.Ordinal)
        || name is "ftrace_caller" or "ftrace_regs_caller" or "ftrace_stub" or "ftrace_regs_call" or "ftrace_call";

    /// <summary>The largest offset of a function's entry frame: the return address of its __fentry__ call (+5, +9 after endbr64).</summary>
    private const ulong EntryFrameMax = 0x10;

    /// <summary>
    /// The chain of <paramref name="chain"/> (record indexes, innermost first) with the unwatched
    /// functions between each record and the next one inserted from the inner record's stack.
    /// </summary>
    public static List<ChainLink> Expand(IReadOnlyList<OriginRecord> recs, IReadOnlyList<int> chain, IReadOnlyList<string> names,
        IKernelSymbols symbols, ISet<string> attached)
    {
        var links = new List<ChainLink>();
        ulong offsetInNext = 0;
        for (int k = 0; k < chain.Count; k++)
        {
            int r = chain[k];
            links.Add(new ChainLink(names[r], r, offsetInNext, true));
            offsetInNext = 0;
            if (k + 1 == chain.Count) break;
            var frames = Callers(recs[r], names[r], symbols);
            string outer = names[chain[k + 1]];
            var outerStack = recs[chain[k + 1]].Stack;
            // Up to the outer function's own frame; or, when it tail-called (jumped) and so has no frame,
            // up to the caller frame it shares with the inner record. Unknown when neither is found.
            int end = frames.FindIndex(f => f.Name == outer);
            if (end >= 0)
                offsetInNext = frames[end].Offset;
            else if (outerStack.Count > 0)
            {
                end = frames.FindIndex(f => f.Address == outerStack[0]);
                // Under fexit the outer stack opens with the BPF program, its trampoline and the outer's own entry:
                // its first real caller frame is the one shared (6.1: __x64_sys_setns jumps into __do_sys_setns).
                if (end < 0 && Callers(recs[chain[k + 1]], outer, symbols) is [var caller, ..])
                    end = frames.FindIndex(f => f.Address == caller.Address);
            }
            if (end < 0) continue;
            for (int j = 0; j < end; j++)
            {
                var f = frames[j];
                links.Add(new ChainLink(f.Name, -1, f.Offset, attached.Contains(f.Name)));
            }
        }
        return links;
    }

    /// <summary>
    /// Where the error the syscall returned was made, given the innermost watched link that returned it
    /// (<paramref name="from"/>). When a function on the way up to it returns bool or void, no errno can
    /// have climbed through it, so the function above it made the errno anew: pid_ns_ctl_handler turning
    /// ns_capable's false into -EPERM (the barrier lies above the watched origin), __inet_bind turning it
    /// into -EACCES, unwatched, below the first watched function that returned -EACCES. Returns the link
    /// index and the barrier crossed (or -1).
    /// </summary>
    public static (int Origin, int Barrier) BornAt(List<ChainLink> links, int from, IReadOnlyList<OriginRecord> recs, long want, IReturnKinds? kinds)
    {
        if (kinds == null) return (from, -1);
        // Start above the last watched link below `from`: it returned another value, so the change happened above it.
        int start = from > 0 ? links.FindLastIndex(from - 1, l => l.Traced) + 1 : from + 1;
        int origin = from, barrier = -1;
        for (int i = start; i < links.Count - 1; i++)
        {
            if (links[i].Traced || !kinds.CannotCarryErrno(links[i].Name)) continue;
            barrier = i;
            // The innermost link above the barrier that made (or may have made) the syscall's value.
            int j = i + 1;
            while (j < links.Count && links[j].Traced && recs[links[j].Record].Ret != want) j++;
            origin = j < links.Count ? j : from;
        }
        return (origin, barrier);
    }

    /// <summary>True when links the stack shows but nobody watched lie between <paramref name="origin"/> and the watched link below it: the value may have changed in one of them.</summary>
    public static bool UnwatchedBelow(List<ChainLink> links, int origin) =>
        origin > 0 && links[origin].Traced && !links[origin - 1].Traced;

    public readonly record struct Frame(string Name, ulong Offset, ulong Address);

    /// <summary>
    /// The callers on a record's stack, symbolized, without the BPF machinery: under fexit every watched
    /// function on the stack shows twice, at its real call site and at its entry ("fn+0x5", the call into
    /// its trampoline, right above the trampoline's frame); the entry frames and the function itself go.
    /// </summary>
    public static List<Frame> Callers(OriginRecord rec, string self, IKernelSymbols symbols)
    {
        var frames = new List<Frame>();
        bool afterTrampoline = false;
        foreach (var a in rec.Stack)
        {
            var s = symbols.Lookup(a, out ulong off);
            bool entry = afterTrampoline && s != null && !IsBpfFrame(s) && off <= EntryFrameMax;
            // Trampolines made after kallsyms was read (functions watched later) have no name yet.
            afterTrampoline = s == null || IsTrampoline(s) || (afterTrampoline && IsBpfFrame(s));
            if (s == null || IsBpfFrame(s) || entry) continue;
            if (frames.Count == 0 && s == self) continue;
            frames.Add(new Frame(s, off, a));
        }
        return frames;
    }
}
