using System.Diagnostics;
using System.Runtime.InteropServices;
using Whyfail.Capture.Bpf;
using Whyfail.Capture.Native;

namespace Whyfail.Capture.Origin;

/// <summary>How error returns of kernel functions are observed.</summary>
public enum OriginBackend
{
    None,
    /// <summary>One kprobe.multi link with return probes on every function (Linux 5.18+): fastest to attach and detach.</summary>
    KretprobeMulti,
    /// <summary>A BPF trampoline per function (fexit): one program and one link each.</summary>
    Fexit,
    /// <summary>A perf kprobe per function (kretprobe), all running one program.</summary>
    Kretprobe,
}

/// <summary>
/// The mass-attach engine: puts the origin program on a list of kernel functions with the chosen
/// backend, skipping (and reporting) the functions the kernel refuses, and detaches everything in
/// parallel at the end (fexit links cost ~150 ms each to close, dominated by RCU grace periods that
/// concurrent closes share).
/// </summary>
public sealed unsafe class OriginAttacher : IDisposable
{
    private readonly List<int> _fds = [];          // fexit: program and link fds
    private readonly List<nint> _links = [];       // libbpf links (kprobe backends)
    private readonly Lock _gate = new();           // _fds and _links: appended by a background attach, read at detach
    private readonly Lock _adding = new();         // one attach at a time

    private readonly nint _program;
    private readonly nint _entryProgram;             // --args with a kretprobe backend: the entry probe on the same functions (0: none)
    private readonly AppendOnlyList<string> _functions = new();
    private readonly AppendOnlyList<string> _byIndex = new();
    private readonly AppendOnlyList<(string Function, string Reason)> _refused = new();
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);

    public OriginBackend Backend { get; }
    /// <summary>Functions attached, in attach order. Only grows (<see cref="Add"/>, possibly from another thread).</summary>
    public IReadOnlyList<string> Functions => _functions;
    /// <summary>Names by kretprobe cookie (an index given before attaching, so an event never names an index not yet known).</summary>
    public IReadOnlyList<string> IndexNames => _byIndex;
    /// <summary>Functions the kernel refused, with the reason.</summary>
    public IReadOnlyList<(string Function, string Reason)> Refused => _refused;
    public TimeSpan AttachTime { get; }
    /// <summary>Functions of the initial list left unattached because <c>upFront</c> ran out (attach them later with <see cref="Add"/>).</summary>
    public IReadOnlyList<string> Pending { get; } = [];

    /// <summary>Name of the program in whyfail.bpf.c that a backend uses.</summary>
    public static string ProgramFor(OriginBackend b) => b switch
    {
        OriginBackend.Fexit => BpfPrograms.OriginFexit,
        OriginBackend.KretprobeMulti => BpfPrograms.OriginKretprobeMulti,
        OriginBackend.Kretprobe => BpfPrograms.OriginKretprobe,
        _ => throw new ArgumentOutOfRangeException(nameof(b)),
    };

    /// <param name="program">The loaded origin program (libbpf handle) for <paramref name="backend"/>.</param>
    /// <param name="progress">Called with (done, total) while attaching.</param>
    /// <param name="upFront">With a backend that attaches one function at a time, stop after this long and leave
    /// the rest in <see cref="Pending"/> (kretprobe.multi attaches its whole list in one call); null: everything.</param>
    /// <param name="entryProgram">--args with a kretprobe backend: the entry program attached beside each return probe, with the same cookie (0: none).</param>
    internal OriginAttacher(OriginBackend backend, nint program, IReadOnlyList<string> functions, Action<int, int>? progress = null, TimeSpan? upFront = null,
        nint entryProgram = 0)
    {
        Backend = backend;
        _program = program;
        _entryProgram = entryProgram;
        var sw = Stopwatch.StartNew();
        var list = functions.Where(_known.Add).ToList();
        var stop = upFront is { } limit && backend != OriginBackend.KretprobeMulti ? new Func<bool>(() => sw.Elapsed >= limit) : null;
        int done = Attach(list, progress, stop);
        Pending = list[done..];
        foreach (var f in Pending) _known.Remove(f);
        AttachTime = sw.Elapsed;
    }

    /// <summary>
    /// Watches more functions while tracing (ones seen on the stack of a failure, or the call graph of a
    /// syscall seen failing); those already watched are skipped. Returns the ones the kernel accepted. Safe to
    /// call from a background thread while events are resolved; stops between two functions once
    /// <paramref name="cancel"/> is set.
    /// </summary>
    public IReadOnlyList<string> Add(IEnumerable<string> functions, CancellationToken cancel = default)
    {
        lock (_adding)
        {
            var list = functions.Where(_known.Add).ToList();
            int before = _functions.Count;
            int done = Attach(list, null, cancel.CanBeCanceled ? () => cancel.IsCancellationRequested : null);
            foreach (var f in list.Skip(done)) _known.Remove(f);
            return _functions.Skip(before).ToList();
        }
    }

    /// <summary>Attaches the list in order until <paramref name="stop"/> says so; returns how many were tried.</summary>
    private int Attach(IReadOnlyList<string> functions, Action<int, int>? progress, Func<bool>? stop)
    {
        if (stop?.Invoke() == true) return 0;
        switch (Backend)
        {
            case OriginBackend.KretprobeMulti:
                AttachMulti(functions);
                return functions.Count;
            case OriginBackend.Fexit:
                // Each function's BTF id: from this boot's cache, not a parse of the kernel's BTF within the up-front budget.
                var ids = BtfIdCache.FunctionIds(functions);
                return AttachEach(functions, progress, stop, fn => AttachFexit(fn, ids[fn]));
            case OriginBackend.Kretprobe:
                return AttachEach(functions, progress, stop, AttachKretprobe);
        }
        return 0;
    }

    private int AttachEach(IReadOnlyList<string> functions, Action<int, int>? progress, Func<bool>? stop, Action<string> attach)
    {
        for (int i = 0; i < functions.Count; i++)
        {
            if (i > 0 && stop?.Invoke() == true) return i;
            attach(functions[i]);
            progress?.Invoke(i + 1, functions.Count);
        }
        return functions.Count;
    }

    private void AttachMulti(IReadOnlyList<string> functions)
    {
        // Every name gets its cookie (index) before the link exists.
        int first = _byIndex.Count;
        foreach (var f in functions) _byIndex.Add(f);
        // One link for all: if the kernel refuses one symbol the whole call fails, so on failure
        // fall back to halves (bisection) to find and skip the refused ones.
        void Try(int from, int count)
        {
            if (count == 0) return;
            var names = functions.Skip(from).Take(count).ToList();
            nint link = AttachMultiOnce(_program, names, first + from, retprobe: true);
            if (link != 0)
            {
                // The entry probes after the return probes: an entry whose return is not probed would only fill the map.
                nint entry = _entryProgram != 0 ? AttachMultiOnce(_entryProgram, names, first + from, retprobe: false) : 0;
                if (entry == 0 && _entryProgram != 0) LibbpfLog.Take();
                lock (_gate)
                {
                    _links.Add(link);
                    if (entry != 0) _links.Add(entry);
                }
                foreach (var n in names) _functions.Add(n);
                return;
            }
            int err = Marshal.GetLastPInvokeError();
            LibbpfLog.Take();
            if (count == 1)
            {
                _refused.Add((names[0], Libc.ErrorText(err)));
                return;
            }
            int half = count / 2;
            Try(from, half);
            Try(from + half, count - half);
        }
        Try(0, functions.Count);
    }

    private static nint AttachMultiOnce(nint program, List<string> names, int firstIndex, bool retprobe)
    {
        var strings = names.Select(n => Marshal.StringToCoTaskMemUTF8(n)).ToArray();
        var cookies = new ulong[names.Count];
        for (int i = 0; i < cookies.Length; i++) cookies[i] = (ulong)(firstIndex + i);
        try
        {
            fixed (nint* syms = strings)
            fixed (ulong* c = cookies)
            {
                var opts = new Libbpf.KprobeMultiOpts
                {
                    Sz = (nuint)sizeof(Libbpf.KprobeMultiOpts),
                    Syms = (nint)syms,
                    Cookies = (nint)c,
                    Cnt = (nuint)names.Count,
                    Retprobe = retprobe ? (byte)1 : (byte)0,
                };
                return Libbpf.ProgramAttachKprobeMulti(program, null, &opts);
            }
        }
        finally
        {
            foreach (var s in strings) Marshal.FreeCoTaskMem(s);
        }
    }

    private void AttachKretprobe(string function)
    {
        int index = _byIndex.Count;
        _byIndex.Add(function);
        var opts = new Libbpf.KprobeOpts { Sz = (nuint)sizeof(Libbpf.KprobeOpts), BpfCookie = (ulong)index, Retprobe = 1 };
        nint link = Libbpf.ProgramAttachKprobe(_program, function, &opts);
        if (link == 0)
        {
            _refused.Add((function, Libc.ErrorText(Marshal.GetLastPInvokeError())));
            LibbpfLog.Take();
            return;
        }
        nint entry = 0;
        if (_entryProgram != 0)
        {
            var entryOpts = new Libbpf.KprobeOpts { Sz = (nuint)sizeof(Libbpf.KprobeOpts), BpfCookie = (ulong)index };
            entry = Libbpf.ProgramAttachKprobe(_entryProgram, function, &entryOpts);
            if (entry == 0) LibbpfLog.Take();
        }
        lock (_gate)
        {
            _links.Add(link);
            if (entry != 0) _links.Add(entry);
        }
        _functions.Add(function);
    }

    private void AttachFexit(string fn, int btfId)
    {
        nint insns = Libbpf.ProgramInsns(_program);
        nuint count = Libbpf.ProgramInsnCount(_program);
        if (btfId <= 0)
        {
            _refused.Add((fn, "no BTF for this function"));
            return;
        }
        var opts = new Libbpf.ProgLoadOpts
        {
            Sz = (nuint)sizeof(Libbpf.ProgLoadOpts),
            ExpectedAttachType = Libbpf.BPF_TRACE_FEXIT,
            AttachBtfId = (uint)btfId,
        };
        int prog = Libbpf.ProgLoad(Libbpf.BPF_PROG_TYPE_TRACING, "wf_origin", "GPL", insns, count, &opts);
        if (prog < 0)
        {
            _refused.Add((fn, Libc.ErrorText(Marshal.GetLastPInvokeError())));
            LibbpfLog.Take();
            return;
        }
        int link = Libbpf.LinkCreate(prog, 0, Libbpf.BPF_TRACE_FEXIT, 0);
        if (link < 0)
        {
            _refused.Add((fn, Libc.ErrorText(Marshal.GetLastPInvokeError())));
            Libc.Close(prog);
            return;
        }
        lock (_gate)
        {
            _fds.Add(link);
            _fds.Add(prog);
        }
        _functions.Add(fn);
    }

    /// <summary>The descriptors that hold the probes attached (one per link; fexit programs are held by their links).</summary>
    public IEnumerable<int> LinkFds()
    {
        lock (_gate)
            return _links.Select(l => Libbpf.LinkFd(l)).Concat(_fds.Where((_, i) => i % 2 == 0)).Where(fd => fd >= 0).ToList();
    }

    /// <summary>
    /// Lets go of links handed to a <see cref="LinkReaper"/>: libbpf forgets them without detaching (its detach of
    /// a kprobe first disables the perf event, an interrupt to another CPU each) and their descriptors stay
    /// open until whyfail exits, when closing them only drops a reference; the fexit links and programs
    /// (whyfail's own descriptors) are closed now, just as cheaply.
    /// </summary>
    public void Release()
    {
        lock (_gate)
        {
            LinkReaper.LetGo(_links);
            foreach (var fd in _fds) Libc.Close(fd);
            _fds.Clear();
        }
    }

    public void Dispose()
    {
        // Closing many links one by one waits for one RCU grace period each; in parallel they share them.
        nint[] links;
        int[] fds;
        lock (_gate)
        {
            links = _links.ToArray();
            _links.Clear();
            fds = _fds.ToArray();
            _fds.Clear();
        }
        Parallel.ForEach(links, new ParallelOptions { MaxDegreeOfParallelism = 64 }, l => Libbpf.LinkDestroy(l));
        // links (even indexes) first, then their programs
        Parallel.ForEach(Enumerable.Range(0, fds.Length / 2), new ParallelOptions { MaxDegreeOfParallelism = 64 }, i => Libc.Close(fds[2 * i]));
        foreach (var (fd, i) in fds.Select((fd, i) => (fd, i)))
            if (i % 2 == 1) Libc.Close(fd);
    }
}
