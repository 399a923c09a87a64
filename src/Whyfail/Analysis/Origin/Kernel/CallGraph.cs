using System.Diagnostics;
using Whyfail.Decoding;

namespace Whyfail.Analysis.Origin.Kernel;

/// <summary>How a function came into the graph.</summary>
public enum CallGraphEdge
{
    /// <summary>A syscall entry symbol (depth 0).</summary>
    Entry,
    /// <summary>A direct CALL.</summary>
    Call,
    /// <summary>A JMP/Jcc to the start of another function.</summary>
    TailCall,
    /// <summary>Added by <see cref="IndirectCallFamilies"/> (an indirect call static analysis cannot see).</summary>
    Family,
}

/// <summary>One function of a syscall's call graph.</summary>
/// <param name="SharedName">Other kernel functions carry the same name (static functions of different files):
/// attaching by name may pick another one; use <paramref name="Address"/>.</param>
public readonly record struct CallGraphNode(string Name, ulong Address, int Depth, string? Caller, CallGraphEdge Via, bool SharedName);

/// <summary>A computed graph: the kept functions in breadth-first order, and what the walk cost.</summary>
public sealed class CallGraphResult
{
    public required string Syscall { get; init; }
    public required IReadOnlyList<string> EntrySymbols { get; init; }
    /// <summary>The functions kept (traceable, errno-capable), shallowest first.</summary>
    public required IReadOnlyList<CallGraphNode> Functions { get; init; }
    /// <summary>Functions reached (kept or not, denylist excluded).</summary>
    public int Reached { get; init; }
    /// <summary>Functions disassembled.</summary>
    public int Scanned { get; init; }
    /// <summary>Functions whose text could not be read (not walked into).</summary>
    public int Unreadable => UnreadableFunctions.Count;
    public IReadOnlyList<string> UnreadableFunctions { get; init; } = [];
    /// <summary>True when MaxFunctions or MaxVisited stopped the walk early.</summary>
    public bool Truncated { get; init; }
    public TimeSpan Elapsed { get; init; }

    public IReadOnlyList<string> Names => Functions.Select(f => f.Name).ToArray();
}

/// <summary>
/// A static call graph of the running kernel, from its machine code: starting at a syscall's entry
/// symbols, it disassembles each function (Iced, 64-bit), follows direct CALLs and tail-call JMPs
/// breadth-first (resolving static-call trampolines and call-depth padding thunks), skips
/// infrastructure (<see cref="CallGraphDenylist"/>), adds the callees indirect calls hide
/// (<see cref="IndirectCallFamilies"/>), and keeps the functions a return probe can watch for an errno:
/// traceable (available_filter_functions) and returning an integer or pointer (BTF).
/// </summary>
public sealed class CallGraph : IDisposable
{
    private readonly Kallsyms _symbols;
    private readonly IKernelTextReader _text;
    private readonly TraceableFunctions? _traceable;
    private readonly BtfReturnTypes? _btf;
    private readonly IndirectCallFamilies? _families;
    private readonly IDisposable? _owned;

    public CallGraph(Kallsyms symbols, IKernelTextReader text, TraceableFunctions? traceable, BtfReturnTypes? btf,
        IndirectCallFamilies? families = null)
        : this(symbols, text, traceable, btf, families, null)
    {
    }

    private CallGraph(Kallsyms symbols, IKernelTextReader text, TraceableFunctions? traceable, BtfReturnTypes? btf,
        IndirectCallFamilies? families, IDisposable? owned)
    {
        symbols.RequireAddresses();
        _symbols = symbols;
        _text = text;
        _traceable = traceable;
        _btf = btf;
        _families = families;
        _owned = owned;
    }

    /// <summary>Where the machine code is read from.</summary>
    public string TextSource => _text.Source;

    /// <summary>
    /// Everything from the running kernel: /proc/kallsyms, its text (<see cref="KernelText.Open"/>),
    /// available_filter_functions, /sys/kernel/btf/vmlinux and the active LSMs. Throws
    /// <see cref="KernelAnalysisException"/> saying what is missing.
    /// </summary>
    public static CallGraph ForRunningKernel(string? vmlinuxPath = null)
    {
        var symbols = Kallsyms.Load();
        symbols.RequireAddresses();
        var text = KernelText.Open(symbols, vmlinuxPath, runningBuildId: KernelBuildId.FromNotes());
        try
        {
            var btf = BtfReturnTypes.Load();
            var traceable = TraceableFunctions.Load();
            return new CallGraph(symbols, text, traceable, btf, IndirectCallFamilies.ForRunningKernel(), text);
        }
        catch
        {
            text.Dispose();
            throw;
        }
    }

    /// <summary>The names of the functions to watch for <paramref name="syscallName"/> (e.g. "openat"), shallowest first.</summary>
    public IReadOnlyList<string> FunctionsFor(string syscallName, CallGraphOptions opts) => Explore(syscallName, opts).Names;

    public IReadOnlyList<string> FunctionsFor(string syscallName) => FunctionsFor(syscallName, new CallGraphOptions());

    /// <summary>
    /// The entry symbols of a syscall that exist in this kernel: its x86_64 entry function from the syscall table
    /// (__x64_sys_newstat for stat) and the functions SYSCALL_DEFINE makes around the same name (__do_sys_,
    /// __se_sys_, do_sys_). A name the table does not know is taken as the entry's own ("demo": __x64_sys_demo).
    /// </summary>
    public IReadOnlyList<KernelSymbol> EntrySymbols(string syscallName)
    {
        var found = new List<KernelSymbol>();
        foreach (var name in EntryNames(syscallName))
            if (_symbols.TryGetSymbol(name, out var s) && !found.Any(f => f.Address == s.Address))
                found.Add(s);
        return found;
    }

    private const string EntryPrefix = "__x64_sys_";

    private static IEnumerable<string> EntryNames(string syscall)
    {
        var info = SyscallTable.Get(syscall);
        if (info != null && info.KernelEntry == null) yield break; // no entry point on x86_64 (never implemented, or removed)
        var entry = info?.KernelEntry ?? EntryPrefix + syscall;
        var stem = entry.StartsWith(EntryPrefix, StringComparison.Ordinal) ? entry[EntryPrefix.Length..] : syscall;
        yield return entry;
        yield return $"__do_sys_{stem}";
        yield return $"__se_sys_{stem}";
        yield return $"do_sys_{stem}";
    }

    public CallGraphResult Explore(string syscallName, CallGraphOptions opts)
    {
        ArgumentNullException.ThrowIfNull(opts);
        if (opts.RequireTraceable && _traceable == null)
            throw new KernelAnalysisException("the call graph needs the list of traceable functions (available_filter_functions)");
        if (opts.RequireErrnoReturn && _btf == null)
            throw new KernelAnalysisException("the call graph needs kernel BTF (/sys/kernel/btf/vmlinux)");

        var clock = Stopwatch.StartNew();
        var entries = EntrySymbols(syscallName);
        if (entries.Count == 0)
            throw new MissingEntryException(syscallName, SyscallTable.KernelEntry(syscallName) is null && SyscallTable.Get(syscallName) != null
                ? $"syscall '{syscallName}' has no entry function on x86_64 (the kernel's syscall table has none)"
                : $"no entry symbol for syscall '{syscallName}' in {_symbols.Source} (tried {string.Join(", ", EntryNames(syscallName))})");

        var walk = new Walk(this, opts);
        foreach (var e in entries) walk.Add(e, 0, null, CallGraphEdge.Entry);
        if (opts.AddIndirectFamilies && _families != null)
            foreach (var name in _families.ForEntry(syscallName))
                walk.AddNamed(name, 1, entries[0].Name);
        walk.Run();
        return walk.Result(syscallName, entries.Select(e => e.Name).ToArray(), clock.Elapsed);
    }

    /// <summary>
    /// The call graph below <paramref name="roots"/> (depth 0) instead of a syscall's entry: the functions an indirect
    /// call can reach (<see cref="IndirectCallTargets"/>) and what they call. Ambiguous and unknown names are skipped.
    /// </summary>
    public CallGraphResult ExploreFrom(string label, IEnumerable<string> roots, CallGraphOptions opts)
    {
        ArgumentNullException.ThrowIfNull(opts);
        var clock = Stopwatch.StartNew();
        var walk = new Walk(this, opts);
        foreach (var r in roots) walk.AddNamed(r, 0, null);
        walk.Run();
        return walk.Result(label, [], clock.Elapsed);
    }

    private bool Keep(string name, CallGraphOptions opts) =>
        (!opts.RequireTraceable || _traceable!.Contains(name)) && (!opts.RequireErrnoReturn || _btf!.CanReturnErrno(name));

    /// <summary>One breadth-first walk.</summary>
    private sealed class Walk(CallGraph graph, CallGraphOptions opts)
    {
        private readonly Queue<(KernelSymbol Symbol, int Depth)> _queue = new();
        private readonly HashSet<ulong> _seen = new();
        private readonly HashSet<string> _keptNames = new(StringComparer.Ordinal);
        private readonly CallGraphDenylist _deny = CallGraphDenylist.For(opts);
        private byte[] _buffer = new byte[4096];

        public List<CallGraphNode> Kept { get; } = new();
        public int Reached { get; private set; }
        public int Scanned { get; private set; }
        public List<string> Unreadable { get; } = new();
        public bool Truncated { get; private set; }
        private bool Full => Kept.Count >= opts.MaxFunctions;

        /// <summary>What the walk found, as the graph of <paramref name="syscall"/> from <paramref name="entries"/>.</summary>
        public CallGraphResult Result(string syscall, string[] entries, TimeSpan elapsed) => new()
        {
            Syscall = syscall,
            EntrySymbols = entries,
            Functions = Kept,
            Reached = Reached,
            Scanned = Scanned,
            UnreadableFunctions = Unreadable,
            Truncated = Truncated,
            Elapsed = elapsed,
        };

        public void AddNamed(string name, int depth, string? caller)
        {
            // An ambiguous name (static functions of different files) could pull in the wrong one: skip it.
            if (name.Length > 0 && graph._symbols.CountNamed(name) == 1 && graph._symbols.TryGetSymbol(name, out var s))
                Add(s, depth, caller, CallGraphEdge.Family);
        }

        public void Add(KernelSymbol symbol, int depth, string? caller, CallGraphEdge via)
        {
            if (depth > opts.MaxDepth) return;
            if (via != CallGraphEdge.Entry && _deny.IsDenied(symbol.Name)) return;
            if (_seen.Contains(symbol.Address)) return;
            if (Full || Reached >= opts.MaxVisited) { Truncated = true; return; }
            _seen.Add(symbol.Address);
            Reached++;
            if (graph.Keep(symbol.Name, opts) && _keptNames.Add(symbol.Name))
                Kept.Add(new CallGraphNode(symbol.Name, symbol.Address, depth, caller, via, graph._symbols.CountNamed(symbol.Name) > 1));
            _queue.Enqueue((symbol, depth));
        }

        public void Run()
        {
            while (_queue.Count > 0 && !Full)
            {
                var (symbol, depth) = _queue.Dequeue();
                if (depth >= opts.MaxDepth) continue;
                if (depth > 0 && opts.FollowOnly.Count > 0 && !opts.FollowOnly.Any(p => symbol.Name.StartsWith(p, StringComparison.Ordinal))) continue;
                var targets = new List<(KernelSymbol Symbol, CallGraphEdge Via)>();
                var coldSeen = new HashSet<ulong>();
                ScanInto(symbol, targets, coldSeen);
                foreach (var (target, via) in targets)
                    Add(target, depth + 1, symbol.Name, via);
                if (opts.AddIndirectFamilies && graph._families != null)
                    foreach (var name in graph._families.ForFunction(symbol.Name))
                        AddNamed(name, depth + 1, symbol.Name);
            }
            if (_queue.Count > 0) Truncated = true;
        }

        /// <summary>Disassembles one function (and its ".cold" parts) and resolves its branch targets to function starts.</summary>
        private void ScanInto(KernelSymbol symbol, List<(KernelSymbol, CallGraphEdge)> targets, HashSet<ulong> coldSeen)
        {
            int length = symbol.Size == 0 ? 4096 : (int)Math.Min(symbol.Size, (ulong)opts.MaxFunctionBytes);
            if (!Read(symbol.Address, ref length)) { Unreadable.Add(symbol.Name); return; }
            Scanned++;
            var sites = CallSiteScanner.Scan(_buffer, length, symbol.Address);
            foreach (var site in sites)
            {
                if (site.Kind == CallSiteKind.Jump && !opts.FollowTailCalls && !IsColdTarget(site.Target)) continue;
                // A retpoline/ITS/call-depth thunk is an indirect call, not a callee (the first thunk shares its address
                // with section markers such as __softirqentry_text_end).
                if (graph._symbols.IsIndirectThunk(site.Target)) continue;
                if (!graph._symbols.TryFind(site.Target, out var t)) continue;
                if (IsCold(t.Name))
                {
                    // A function's cold part (unlikely paths): its calls belong to the function itself.
                    if (coldSeen.Add(t.Address)) ScanInto(t, targets, coldSeen);
                    continue;
                }
                if (t.Address != site.Target)
                {
                    // Call-depth tracking and FineIBT call into the padding before a function.
                    if ((t.Name.StartsWith("__pfx_", StringComparison.Ordinal) || t.Name.StartsWith("__cfi_", StringComparison.Ordinal))
                        && graph._symbols.TryFindNext(t, out var next) && next.Address - site.Target <= 64)
                        t = next;
                    else
                        continue; // a jump into the middle of another function: not a call
                }
                if (t.Name.StartsWith("__SCT__", StringComparison.Ordinal))
                {
                    if (!ResolveTrampoline(t, out t)) continue;
                }
                targets.Add((t, site.Kind == CallSiteKind.Call ? CallGraphEdge.Call : CallGraphEdge.TailCall));
            }
        }

        private bool IsColdTarget(ulong address) => graph._symbols.TryFind(address, out var t) && IsCold(t.Name);

        private static bool IsCold(string name) => name.EndsWith(".cold", StringComparison.Ordinal) || name.Contains(".cold.", StringComparison.Ordinal);

        /// <summary>The function a static-call trampoline currently jumps to; false for an unset (RET) one.</summary>
        private bool ResolveTrampoline(KernelSymbol trampoline, out KernelSymbol target)
        {
            target = default;
            var code = new byte[16];
            if (!graph._text.TryRead(trampoline.Address, code)) return false;
            ulong? to = CallSiteScanner.TrampolineTarget(code, trampoline.Address);
            return to != null && graph._symbols.TryFindStart(to.Value, out target)
                && !target.Name.StartsWith("__SCT__", StringComparison.Ordinal);
        }

        /// <summary>Reads <paramref name="length"/> bytes into the buffer, shortening the read if the end is not mapped.</summary>
        private bool Read(ulong address, ref int length)
        {
            if (_buffer.Length < length) _buffer = new byte[Math.Max(length, _buffer.Length * 2)];
            for (int n = length; n > 0; n = n > 64 ? n / 2 : 0)
            {
                if (graph._text.TryRead(address, _buffer.AsSpan(0, n)))
                {
                    length = n;
                    return true;
                }
            }
            return false;
        }
    }

    public void Dispose() => _owned?.Dispose();
}
