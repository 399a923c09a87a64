using System.Collections.Concurrent;
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
public sealed class OriginResolver(IKernelSymbols symbols, IReadOnlyList<string> attachedFunctions, string backend, int maxStackFrames = Capture.EventParser.OriginStack, IReturnKinds? returnKinds = null,
    IReadOnlyList<string>? indexNames = null, ICalleeFacts? callees = null)
{
    private readonly HashSet<string> _attached = new(StringComparer.Ordinal);
    private int _attachedSeen;

    /// <summary>
    /// Functions seen on the stack of a failure between watched ones, whose return type can carry an
    /// errno and which are not watched yet: watching them confirms later occurrences. The caller takes them.
    /// </summary>
    public HashSet<string> Unwatched { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Direct callees of an origin that may be deeper (see <see cref="Events.Origin.Deeper"/>), not watched yet, whose
    /// return type can carry an errno: watching them lets a later occurrence go deeper. The caller takes them.
    /// </summary>
    public HashSet<string> DeeperCallees { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Origins that may be deeper because they make indirect calls, with the name prefixes the failure's context gives
    /// for the functions those calls reach (the file system of a descriptor argument, a socket's family): the caller
    /// resolves them through BTF (<see cref="Kernel.IndirectCallTargets"/>), watches them and reports them back with
    /// <see cref="Proposed"/>. The caller takes them.
    /// </summary>
    public ConcurrentQueue<(string Origin, string Syscall, IReadOnlyList<string> Prefixes)> IndirectCalls { get; } = new();
    private readonly HashSet<string> _indirectAsked = new(StringComparer.Ordinal);

    // Functions this resolver (or its caller, for indirect calls) asked to watch, and why: an origin found among them
    // was found by zooming in, that way ("kernel_stack", "callees", "btf_targets").
    private readonly ConcurrentDictionary<string, string> _proposed = new(StringComparer.Ordinal);

    /// <summary>Marks <paramref name="functions"/> as watched because of an uncertain origin, found <paramref name="way"/> (any thread).</summary>
    public void Proposed(IEnumerable<string> functions, string way)
    {
        foreach (var f in functions) _proposed.TryAdd(f, way);
    }

    /// <summary>Callees of an uncertain origin named in <see cref="Events.Origin.DeeperWhy"/> at most.</summary>
    private const int MaxNamed = 3;

    public Events.Origin? Resolve(SyscallEvent ev)
    {
        var recs = ev.OriginRecords;
        if (recs.Count == 0) return null;
        long want = ev.KernelRet;

        var names = recs.Select(Name).ToArray();
        // The chain starts at the last function that returned the syscall's own value. A call where no watched
        // function returned it has no origin: the errors recorded belong to something else (a permission check
        // returning -ESRCH inside a call that failed with -ENOSPC).
        int root = -1;
        for (int i = recs.Count - 1; i >= 0 && root < 0; i--)
            if (recs[i].Ret == want) root = i;
        if (root < 0) return null;
        var chain = new List<int> { root };
        // A callee that returned another value, passed over for an earlier one that returned the link's own (see SameValueBefore).
        (int Skipped, int Taken) passedOver = (-1, -1);
        for (int i = root - 1; i >= 0; i--)
        {
            int cur = chain[^1];
            if (TailCalled(recs, i, cur))
            {
                // cur jumped into it (walk_component → step_into, __x64_sys_io_uring_setup → io_uring_setup):
                // the same frame, the same callers, returned just before it with the same value.
                chain.Add(i);
                continue;
            }
            if (!Below(recs, names, i, cur)) continue;
            if (recs[i].Ret != recs[cur].Ret && passedOver.Skipped < 0 && SameValueBefore(recs, names, i, cur) is var k and >= 0)
            {
                passedOver = (i, k);
                i = k;
            }
            chain.Add(i);
        }
        chain.Reverse(); // innermost first

        // The functions between watched ones, from the stacks (indirect calls, unwatched functions).
        var links = StackChain.Expand(recs, chain, names, symbols, AttachedSet());
        // The innermost watched link that returned the syscall's own error value...
        int first = links.FindIndex(l => l.Traced && recs[l.Record].Ret == want);
        bool exact = first >= 0;
        if (!exact) first = 0;
        // ...unless the value cannot have climbed from there (a bool or void function in between).
        var (originAt, barrier) = exact ? StackChain.BornAt(links, first, recs, want, returnKinds) : (first, -1);
        if (exact) originAt = ByMachineCode(links, first, originAt, barrier, want);
        var origin = links[originAt];
        // The record whose stack the origin's callers are read from.
        int originRec = origin.Traced ? origin.Record : links.Take(originAt).Last(l => l.Traced).Record;

        var changes = new List<string>();
        var traced = links.Where(l => l.Traced).ToList();
        for (int k = 1; k < traced.Count; k++)
        {
            var (inner, outer) = (traced[k - 1], traced[k]);
            bool straddles = barrier >= 0 && links.IndexOf(inner) < barrier && links.IndexOf(outer) > barrier;
            if (recs[inner.Record].Ret != recs[outer.Record].Ret && !straddles)
                changes.Add($"{inner.Name} returned {ErrName(recs[inner.Record].Ret)}, {outer.Name} returned {ErrName(recs[outer.Record].Ret)}");
        }
        if (passedOver.Skipped >= 0)
            changes.Add($"{names[passedOver.Skipped]} returned {ErrName(recs[passedOver.Skipped].Ret)} after {names[passedOver.Taken]} returned " +
                $"{ErrName(recs[passedOver.Taken].Ret)}: taken as handled");
        if (barrier >= 0)
        {
            var below = links.Take(barrier).Last(l => l.Traced);
            changes.Add($"{below.Name} returned {ErrName(recs[below.Record].Ret)} to {links[barrier].Name}, which returns {ReturnWord(links[barrier].Name)}: " +
                $"{origin.Name}{(origin.Traced ? "" : " (not watched)")} made {ErrName(want)} anew");
        }

        // Callers at the origin, from its kernel stack (traced or not).
        var stack = new List<string>();
        var callers = StackChain.Callers(recs[originRec], names[originRec], symbols);
        if (!origin.Traced) callers = callers.SkipWhile(f => f.Name != origin.Name).Skip(1).ToList();
        foreach (var f in callers)
            stack.Add(f.Offset != 0 ? $"{f.Name}+0x{f.Offset:x}" : f.Name);

        foreach (var l in links)
            if (!l.Traced && !l.Attached && returnKinds != null && returnKinds.CanCarryErrno(l.Name) && Unwatched.Add(l.Name))
                _proposed.TryAdd(l.Name, "kernel_stack");

        // Did the error start in the origin function, or in a call it made that nobody watched?
        string? deeperWhy = exact && origin.Traced && barrier < 0 ? DeeperWhy(origin.Name, want, ev) : null;

        string confidence = !exact ? "low"
            : !origin.Traced || (barrier < 0 && StackChain.UnwatchedBelow(links, originAt)) ? "medium"
            : ev.OriginDropped > 0 || deeperWhy != null || passedOver.Skipped >= 0 ? "medium"
            // Functions that failed after the chain's root returned: the root may be a handled sibling.
            : root == recs.Count - 1 ? "high" : "medium";
        return new Events.Origin
        {
            Function = origin.Name,
            // Placed from the stack or above a bool check: where it called the check that said no.
            Offset = origin.Traced && barrier < 0 ? 0 : (long)origin.CallOffset,
            Chain = links.Skip(originAt).Select(l => l.Name).ToList(),
            ChainWatched = links.Skip(originAt).Select(l => l.Traced || l.Attached).ToList(),
            ChainRecords = links.Skip(originAt).Select(l => l.Record).ToList(),
            Inferred = !origin.Traced,
            Deeper = deeperWhy != null,
            DeeperWhy = deeperWhy,
            FoundBy = !origin.Traced ? "kernel_stack" : _proposed.ContainsKey(origin.Name) ? "zoom" : "return_values",
            ZoomedBy = origin.Traced && _proposed.TryGetValue(origin.Name, out var way) ? way : null,
            ErrnoChanges = changes,
            Backend = backend,
            Confidence = confidence,
            Stack = stack,
            Inner = links.Take(originAt).Select(l => l.Traced ? $"{l.Name} ({ErrName(recs[l.Record].Ret)})" : $"{l.Name} ({(returnKinds?.CannotCarryErrno(l.Name) == true ? "returns " + ReturnWord(l.Name) : "not watched")})").ToList(),
        };
    }

    /// <summary>
    /// Null when <paramref name="function"/> makes the error itself (an instruction producing it) and makes no indirect
    /// call, or every call it makes that could return an errno was watched; else the unwatched calls, in words (its
    /// watchable direct callees are proposed for watching, its indirect calls to be followed through BTF).
    /// </summary>
    private string? DeeperWhy(string function, long want, SyscallEvent ev)
    {
        if (callees == null || want >= 0 || want < -4095 || callees.Of(function, (int)-want) is not { } facts) return null;
        // A function holding an instruction that makes the errno may still have passed on an indirect callee's (vfs_write
        // makes -EINVAL itself, and so does eventfd_write behind f_op->write): only its direct calls are then ruled out.
        if (facts.MakesErrno && facts.Indirect == 0) return null;
        var attached = AttachedSet();
        var direct = facts.MakesErrno ? [] : facts.Direct.Where(n => !attached.Contains(n) && returnKinds?.CanCarryErrno(n) == true).ToList();
        if (facts.Indirect == 0 && direct.Count == 0) return null;
        foreach (var n in direct)
            if (DeeperCallees.Add(n)) _proposed.TryAdd(n, "callees");
        if (facts.Indirect > 0 && IndirectPrefixes(ev) is { Count: > 0 } prefixes && _indirectAsked.Add(function + "\0" + string.Join(',', prefixes)))
            IndirectCalls.Enqueue((function, ev.Syscall, prefixes));
        var parts = new List<string>();
        if (facts.Indirect > 0) parts.Add($"{facts.Indirect} indirect call{(facts.Indirect == 1 ? "" : "s")} (function pointers)");
        if (direct.Count > 0)
            parts.Add($"{direct.Count} unwatched function{(direct.Count == 1 ? "" : "s")} ({string.Join(", ", direct.Take(MaxNamed))}{(direct.Count > MaxNamed ? ", …" : "")})");
        return facts.MakesErrno
            ? $"{function} makes {ErrName(want)} itself but also {string.Join(" and ", parts)}, which may have returned it"
            : $"{function} has no instruction making {ErrName(want)} and makes {string.Join(" and ", parts)}, which may have returned it";
    }

    /// <summary>
    /// Narrows, with the functions' machine code, an origin the stack leaves open between <paramref name="first"/> (the
    /// innermost watched link that returned the syscall's value) and the unwatched links below it:
    /// <list type="bullet">
    /// <item>above a bool barrier, an unwatched link that has no instruction making the errno and makes no call that could
    /// have returned it is passed over (setpriority: can_nice returns capable()'s answer as an int; set_one_prio, watched,
    /// made -EACCES);</item>
    /// <item>when the watched link itself makes no such instruction and calls nothing unwatched but the unwatched link
    /// below it (a syscall wrapper: __x64_sys_setns → __do_sys_setns, which cannot be watched), that link is the
    /// origin if its code makes the errno.</item>
    /// </list>
    /// </summary>
    private int ByMachineCode(List<ChainLink> links, int first, int originAt, int barrier, long want)
    {
        if (callees == null || want >= 0 || want < -4095) return originAt;
        int errno = (int)-want;
        var below = new HashSet<string>(links.Take(first).Select(l => l.Name), StringComparer.Ordinal);
        if (originAt < first && !links[originAt].Traced)
        {
            for (int j = originAt; j < first; j++)
            {
                if (links[j].Traced) continue;
                if (callees.Of(links[j].Name, errno) is not { } facts || facts.MakesErrno || MayPassOn(facts, below)) return j;
            }
            return first;
        }
        if (barrier < 0 && originAt == first && first > 0 && links[first].Traced && !links[first - 1].Traced
            && callees.Of(links[first].Name, errno) is { MakesErrno: false, Indirect: 0 } outer
            && outer.Direct.All(d => d == links[first - 1].Name || below.Contains(d) || AttachedSet().Contains(d) || returnKinds?.CanCarryErrno(d) != true)
            && callees.Of(links[first - 1].Name, errno) is { MakesErrno: true })
            return first - 1;
        return originAt;
    }

    /// <summary>Whether a function may have passed on an errno it did not make: an indirect call, or an unwatched direct callee that can carry one and is not in the chain below.</summary>
    private bool MayPassOn(CalleeFacts facts, HashSet<string> below) =>
        facts.Indirect > 0 || facts.Direct.Any(d => !below.Contains(d) && !AttachedSet().Contains(d) && returnKinds?.CanCarryErrno(d) != false);

    /// <summary>
    /// The name prefixes of the functions the failing call's indirect calls may have reached: those of the file system of
    /// each descriptor argument (from the failure's context) and, for socket(2), of the family asked for.
    /// </summary>
    private static List<string> IndirectPrefixes(SyscallEvent ev)
    {
        var prefixes = new List<string>();
        foreach (var f in ev.Context?.Files ?? [])
            if (f.Arg >= 0 && f.Open)
            {
                prefixes.AddRange(Kernel.IndirectCallTargets.FileTypePrefixes(f.Mode));
                prefixes.AddRange(Kernel.IndirectCallTargets.FsPrefixes(f.FsType, f.Names.Count > 0 ? f.Names[0] : null));
            }
        if (ev.Syscall is "socket" or "socketpair")
            prefixes.AddRange(Kernel.IndirectCallTargets.SocketPrefixes((int)ev.Args[0]));
        if (ev.Syscall is "setsockopt" or "getsockopt")
            prefixes.AddRange(Kernel.IndirectCallTargets.SocketLevelPrefixes((int)ev.Args[1]));
        return prefixes.Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>Whether record <paramref name="i"/> ran below (inside) the call of record <paramref name="cur"/>.</summary>
    private bool Below(IReadOnlyList<OriginRecord> recs, string[] names, int i, int cur) =>
        recs[i].StackPointer < recs[cur].StackPointer
        && (IsCalledFrom(recs[i], names[cur]) || ExtendsStack(recs[i].Stack, recs[cur].Stack)
            || (recs[i].Stack.Count >= maxStackFrames && recs[i].Ret == recs[cur].Ret));

    /// <summary>
    /// When the last callee of <paramref name="cur"/> to fail (<paramref name="last"/>) returned another value than cur, an
    /// earlier callee of the same call that returned cur's own value and is no callee of <paramref name="last"/>: the
    /// value climbed from there, and the later failure was handled (6.1 shmem_get_folio_gfp: shmem_alloc_and_acct_folio
    /// returns -ENOSPC, shmem_unused_huge_shrink then finds nothing to free, and -ENOSPC is returned). -1 when none: the
    /// search stops at the first record that returned before cur was called (at cur's stack depth or above).
    /// </summary>
    private int SameValueBefore(IReadOnlyList<OriginRecord> recs, string[] names, int last, int cur)
    {
        for (int j = last - 1; j >= 0; j--)
        {
            if (recs[j].StackPointer >= recs[cur].StackPointer || names[j] == names[cur]) return -1;
            if (recs[j].Ret == recs[cur].Ret && Below(recs, names, j, cur) && !Below(recs, names, j, last)) return j;
        }
        return -1;
    }

    /// <summary>
    /// Whether record <paramref name="inner"/> is of a function the function of record <paramref name="outer"/> tail-called:
    /// it returned right before it (no record between them), with the same value, on the same stack pointer and the
    /// same callers — a function that jumps into another leaves its own frame to it.
    /// </summary>
    internal static bool TailCalled(IReadOnlyList<OriginRecord> recs, int inner, int outer) =>
        inner == outer - 1 && recs[inner].Ret == recs[outer].Ret && recs[inner].StackPointer == recs[outer].StackPointer
        && recs[inner].Stack.Count > 0 && recs[inner].Stack.SequenceEqual(recs[outer].Stack);

    private HashSet<string> AttachedSet()
    {
        // The attach list only grows (functions watched later are appended).
        for (; _attachedSeen < attachedFunctions.Count; _attachedSeen++) _attached.Add(attachedFunctions[_attachedSeen]);
        return _attached;
    }

    private string ReturnWord(string function) => returnKinds?.ReturnType(function) ?? "no errno";

    public string Name(OriginRecord r)
    {
        if (r.IsIndex)
        {
            var byIndex = indexNames ?? attachedFunctions;
            return r.Function < (ulong)byIndex.Count ? byIndex[(int)r.Function] : $"function#{r.Function}";
        }
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
