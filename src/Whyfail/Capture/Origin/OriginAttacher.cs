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

    private readonly nint _program;
    private readonly List<string> _functions = [];
    private readonly List<(string Function, string Reason)> _refused = [];

    public OriginBackend Backend { get; }
    /// <summary>Functions attached, in the order of their index (kretprobe cookie). Only grows (<see cref="Add"/>).</summary>
    public IReadOnlyList<string> Functions => _functions;
    /// <summary>Functions the kernel refused, with the reason.</summary>
    public IReadOnlyList<(string Function, string Reason)> Refused => _refused;
    public TimeSpan AttachTime { get; }

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
    internal OriginAttacher(OriginBackend backend, nint program, IReadOnlyList<string> functions, Action<int, int>? progress = null)
    {
        Backend = backend;
        _program = program;
        var sw = Stopwatch.StartNew();
        Attach(functions, progress);
        AttachTime = sw.Elapsed;
    }

    /// <summary>
    /// Watches more functions while tracing (ones seen on the stack of a failure, or the call graph of a
    /// syscall seen failing); those already watched are skipped. Returns the ones the kernel accepted.
    /// </summary>
    public IReadOnlyList<string> Add(IEnumerable<string> functions)
    {
        var known = new HashSet<string>(_functions, StringComparer.Ordinal);
        known.UnionWith(_refused.Select(r => r.Function));
        int before = _functions.Count;
        Attach(functions.Where(known.Add).ToList(), null);
        return _functions.Skip(before).ToList();
    }

    private void Attach(IReadOnlyList<string> functions, Action<int, int>? progress)
    {
        switch (Backend)
        {
            case OriginBackend.KretprobeMulti:
                AttachMulti(_program, functions, _functions, _refused);
                break;
            case OriginBackend.Fexit:
                AttachFexit(_program, functions, _functions, _refused, progress);
                break;
            case OriginBackend.Kretprobe:
                AttachKretprobes(_program, functions, _functions, _refused, progress);
                break;
        }
    }

    private void AttachMulti(nint program, IReadOnlyList<string> functions, List<string> attached, List<(string, string)> refused)
    {
        // One link for all: if the kernel refuses one symbol the whole call fails, so on failure
        // fall back to halves (bisection) to find and skip the refused ones.
        void Try(List<string> names)
        {
            if (names.Count == 0) return;
            nint link = AttachMultiOnce(program, names, attached.Count);
            if (link != 0)
            {
                _links.Add(link);
                attached.AddRange(names);
                return;
            }
            int err = Marshal.GetLastPInvokeError();
            LibbpfLog.Take();
            if (names.Count == 1)
            {
                refused.Add((names[0], Libc.ErrorText(err)));
                return;
            }
            int half = names.Count / 2;
            Try(names[..half]);
            Try(names[half..]);
        }
        Try(functions.ToList());
    }

    private static nint AttachMultiOnce(nint program, List<string> names, int firstIndex)
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
                    Retprobe = 1,
                };
                return Libbpf.ProgramAttachKprobeMulti(program, null, &opts);
            }
        }
        finally
        {
            foreach (var s in strings) Marshal.FreeCoTaskMem(s);
        }
    }

    private void AttachKretprobes(nint program, IReadOnlyList<string> functions, List<string> attached, List<(string, string)> refused, Action<int, int>? progress)
    {
        for (int i = 0; i < functions.Count; i++)
        {
            var opts = new Libbpf.KprobeOpts { Sz = (nuint)sizeof(Libbpf.KprobeOpts), BpfCookie = (ulong)attached.Count, Retprobe = 1 };
            nint link = Libbpf.ProgramAttachKprobe(program, functions[i], &opts);
            if (link == 0)
            {
                refused.Add((functions[i], Libc.ErrorText(Marshal.GetLastPInvokeError())));
                LibbpfLog.Take();
            }
            else
            {
                _links.Add(link);
                attached.Add(functions[i]);
            }
            progress?.Invoke(i + 1, functions.Count);
        }
    }

    private void AttachFexit(nint program, IReadOnlyList<string> functions, List<string> attached, List<(string, string)> refused, Action<int, int>? progress)
    {
        nint insns = Libbpf.ProgramInsns(program);
        nuint count = Libbpf.ProgramInsnCount(program);
        nint btf = KernelChecks.VmlinuxBtf();
        for (int i = 0; i < functions.Count; i++)
        {
            string fn = functions[i];
            progress?.Invoke(i + 1, functions.Count);
            int btfId = btf != 0 ? Libbpf.BtfFindByNameKind(btf, fn, Libbpf.BTF_KIND_FUNC) : -1;
            if (btfId <= 0)
            {
                refused.Add((fn, "no BTF for this function"));
                continue;
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
                refused.Add((fn, Libc.ErrorText(Marshal.GetLastPInvokeError())));
                LibbpfLog.Take();
                continue;
            }
            int link = Libbpf.LinkCreate(prog, 0, Libbpf.BPF_TRACE_FEXIT, 0);
            if (link < 0)
            {
                refused.Add((fn, Libc.ErrorText(Marshal.GetLastPInvokeError())));
                Libc.Close(prog);
                continue;
            }
            _fds.Add(link);
            _fds.Add(prog);
            attached.Add(fn);
        }
    }

    public void Dispose()
    {
        // Closing many links one by one waits for one RCU grace period each; in parallel they share them.
        var links = _links.ToArray();
        _links.Clear();
        Parallel.ForEach(links, new ParallelOptions { MaxDegreeOfParallelism = 64 }, l => Libbpf.LinkDestroy(l));
        var fds = _fds.ToArray();
        _fds.Clear();
        // links (even indexes) first, then their programs
        Parallel.ForEach(Enumerable.Range(0, fds.Length / 2), new ParallelOptions { MaxDegreeOfParallelism = 64 }, i => Libc.Close(fds[2 * i]));
        foreach (var (fd, i) in fds.Select((fd, i) => (fd, i)))
            if (i % 2 == 1) Libc.Close(fd);
    }
}
