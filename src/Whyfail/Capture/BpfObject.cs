using System.Runtime.InteropServices;
using System.Text;
using Whyfail.Capture.Native;

namespace Whyfail.Capture;

/// <summary>
/// An opened (and later loaded) libbpf object with the links attached from it. Disposing detaches
/// every link and closes the object, so no kernel object outlives whyfail.
/// </summary>
internal sealed unsafe class BpfObject : IDisposable
{
    private nint _obj;
    private readonly List<(string Name, nint Link)> _links = [];

    private BpfObject(nint obj, string? coreBtf) => (_obj, CoreBtfPath) = (obj, coreBtf);

    public nint Handle => _obj != 0 ? _obj : throw new ObjectDisposedException(nameof(BpfObject));

    /// <summary>The small BTF its CO-RE relocations are answered from (<see cref="CoreBtf"/>); null: the kernel's own.</summary>
    public string? CoreBtfPath { get; }

    /// <summary>Whether the last <see cref="Load"/> failed in libbpf's CO-RE relocation (before any program reached the verifier).</summary>
    public bool CoreRelocationFailed { get; private set; }

    /// <summary>
    /// Opens an embedded object file (not yet loaded into the kernel). Its CO-RE relocations use <see cref="CoreBtf"/>'s
    /// small BTF when there is one (and its BTF-attached programs <see cref="BtfAttachTargets"/>), unless
    /// <see cref="CoreBtf.Disabled"/>.
    /// </summary>
    public static BpfObject Open(ReadOnlySpan<byte> image)
    {
        LibbpfLog.Install();
        string? core = CoreBtf.Disabled ? null : CoreBtf.PathFor(image);
        if (core != null && !BtfAttachTargets.Register()) core = null; // both or neither: else libbpf reads the kernel's BTF anyway
        byte[]? path = core != null ? Encoding.UTF8.GetBytes(core + "\0") : null;
        fixed (byte* p = image)
        fixed (byte* custom = path)
        {
            var opts = new Libbpf.ObjectOpenOpts { Sz = (nuint)sizeof(Libbpf.ObjectOpenOpts), BtfCustomPath = (nint)custom };
            nint obj = Libbpf.ObjectOpenMem(p, (nuint)image.Length, &opts);
            if (obj == 0)
                throw new WhyfailException($"libbpf could not open whyfail's BPF object: {Libc.ErrorText(Marshal.GetLastPInvokeError())}",
                    ExitCodes.Internal, LibbpfLog.Take());
            return new BpfObject(obj, core);
        }
    }

    /// <summary>
    /// An embedded object where it lies in whyfail's image, not copied (<see cref="EmbeddedResource"/>): the copy was
    /// whyfail.bpf.o's 255 KiB of fresh heap pages (~64 page faults) at every start (bench/README "Start-up, session 15").
    /// </summary>
    public static ReadOnlySpan<byte> Embedded(string name) => EmbeddedResource.TryGet(name, out var image)
        ? image
        : throw new WhyfailException($"embedded BPF object '{name}' is missing: the build did not run clang", ExitCodes.Internal);

    public nint Program(string name) => Libbpf.FindProgram(Handle, name) is var p and not 0
        ? p : throw new WhyfailException($"BPF program '{name}' not found in the object", ExitCodes.Internal);

    public nint Map(string name) => Libbpf.FindMap(Handle, name) is var m and not 0
        ? m : throw new WhyfailException($"BPF map '{name}' not found in the object", ExitCodes.Internal);

    public int MapFd(string name) => Libbpf.MapFd(Map(name));

    public void SetAutoload(string program, bool on) => Libbpf.ProgramSetAutoload(Program(program), on);

    /// <summary>Writes a read-only variable (a const volatile global at <paramref name="offset"/> in .rodata) before load.</summary>
    public void SetRodata<T>(T value, int offset) where T : unmanaged
    {
        void* p = Libbpf.MapInitialValue(Map(Bpf.BpfMaps.Rodata), out nuint size);
        if (p == null || size < (nuint)(offset + sizeof(T)))
            throw new WhyfailException("BPF object has no .rodata of the expected size", ExitCodes.Internal);
        *(T*)((byte*)p + offset) = value;
    }

    public void Load()
    {
        using var stats = VerifierStats.Request(Handle);
        if (Libbpf.ObjectLoad(Handle) < 0)
        {
            int err = Marshal.GetLastPInvokeError();
            string log = LibbpfLog.Take();
            // libbpf 1.1: "failed to perform CO-RE relocations", "failed to parse target BTF" (the custom file).
            CoreRelocationFailed = log.Contains("CO-RE", StringComparison.Ordinal) || log.Contains("target BTF", StringComparison.Ordinal);
            string hint = err == Errnos.EPERM
                ? "the kernel refused to load BPF programs (EPERM): run whyfail as root, or give it CAP_BPF and CAP_PERFMON"
                : $"the kernel refused whyfail's BPF programs: {Libc.ErrorText(err)}";
            throw new WhyfailException(hint, err == 1 ? ExitCodes.NoPermission : ExitCodes.KernelUnsupported, VerifierSummary(log));
        }
        LibbpfLog.Take();
        stats?.Print();
    }

    /// <summary>Attaches a program by its section (tp_btf/...); returns false with the reason when the kernel says no.</summary>
    public void Attach(string program)
    {
        nint link = Libbpf.ProgramAttach(Program(program));
        if (link == 0)
        {
            int err = Marshal.GetLastPInvokeError();
            throw new WhyfailException($"could not attach BPF program {program}: {Libc.ErrorText(err)}", ExitCodes.KernelUnsupported, LibbpfLog.Take());
        }
        _links.Add((program, link));
    }

    /// <summary>Attaches a program to the tracepoint category:name (one program may be attached to several).</summary>
    public void AttachTracepoint(string program, string category, string name)
    {
        nint link = Libbpf.ProgramAttachTracepoint(Program(program), category, name);
        if (link == 0)
        {
            int err = Marshal.GetLastPInvokeError();
            throw new WhyfailException($"could not attach BPF program {program} to the tracepoint {category}:{name}: {Libc.ErrorText(err)}", ExitCodes.KernelUnsupported, LibbpfLog.Take());
        }
        _links.Add((program, link));
        _perfLinks.Add(link);
    }

    /// <summary>Runs a task iterator program once, to completion.</summary>
    public void RunIterator(string program)
    {
        nint link = Libbpf.ProgramAttachIter(Program(program), 0);
        if (link == 0)
            throw new WhyfailException($"could not create BPF iterator {program}: {Libc.ErrorText(Marshal.GetLastPInvokeError())}", ExitCodes.KernelUnsupported, LibbpfLog.Take());
        try
        {
            int fd = Libbpf.IterCreate(Libbpf.LinkFd(link));
            if (fd < 0)
                throw new WhyfailException($"could not run BPF iterator {program}: {Libc.ErrorText(Marshal.GetLastPInvokeError())}", ExitCodes.KernelUnsupported);
            var buf = stackalloc byte[4096];
            while (Libc.Read(fd, buf, 4096) > 0) { }
            Libc.Close(fd);
        }
        finally
        {
            Libbpf.LinkDestroy(link);
        }
    }

    /// <summary>The descriptors of the links attached from the named programs.</summary>
    public IEnumerable<int> LinkFds(IReadOnlyCollection<string> programs) =>
        _links.Where(l => programs.Contains(l.Name)).Select(l => Libbpf.LinkFd(l.Link)).Where(fd => fd >= 0);

    /// <summary>
    /// The descriptors of the perf events' links (<see cref="AttachTracepoint"/>), whose close waits for the kernel's grace
    /// periods under its event mutex (perf_trace_event_unreg: tracepoint_synchronize_unregister), ~50 ms each on this
    /// project's host, one after the other even from several threads (bench/README, session 21).
    /// </summary>
    public IReadOnlyCollection<int> PerfLinkFds() => _perfLinks.Select(Libbpf.LinkFd).Where(fd => fd >= 0).ToList();

    private readonly HashSet<nint> _perfLinks = [];

    /// <summary>The descriptors of every link attached.</summary>
    public IEnumerable<int> LinkFds() => _links.Select(l => Libbpf.LinkFd(l.Link)).Where(fd => fd >= 0);

    /// <summary>How many programs are attached now.</summary>
    public int AttachedCount => _links.Count;

    public void DetachAll()
    {
        foreach (var (_, link) in _links)
            Libbpf.LinkDestroy(link);
        _links.Clear();
        _perfLinks.Clear();
    }

    public void Dispose()
    {
        DetachAll();
        if (_obj != 0)
        {
            Libbpf.ObjectClose(_obj);
            _obj = 0;
        }
    }

    /// <summary>The verifier's verdict is at the end of a (very long) log: keep the program name and the last lines.</summary>
    private static string VerifierSummary(string log)
    {
        var lines = log.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var keep = lines.Where(l => l.Contains("failed") || l.Contains("Error") || l.Contains("error")).TakeLast(4)
            .Concat(lines.Where(l => !l.StartsWith(';') && !l.StartsWith("mark_precise")).TakeLast(8));
        return string.Join('\n', keep.Distinct());
    }
}

/// <summary>Collects libbpf's messages instead of letting them reach the terminal; shown when something fails.</summary>
internal static unsafe class LibbpfLog
{
    private static readonly StringBuilder Buffer = new();
    private static bool _installed;
    private const int MaxChars = 256 * 1024;
    private const nuint NativeSize = 4 << 20;
    private static byte* _native;

    public static void Install()
    {
        if (_installed) return;
        _installed = true;
        Libbpf.SetPrint(&Print);
    }

    public static string Take()
    {
        lock (Buffer)
        {
            var s = Buffer.ToString();
            Buffer.Clear();
            return s;
        }
    }

    [UnmanagedCallersOnly]
    private static int Print(int level, nint fmt, nint args)
    {
        if (level > 1) return 0; // DEBUG
        lock (Buffer)
        {
            // Verifier logs arrive as one message that can be large; their end is what matters,
            // so format into a generous buffer allocated on first use.
            if (_native == null) _native = (byte*)NativeMemory.Alloc(NativeSize);
            int n = Libc.Vsnprintf(_native, NativeSize, fmt, args);
            if (n <= 0) return 0;
            var s = Encoding.UTF8.GetString(_native, (int)Math.Min((nuint)n, NativeSize - 1));
            if (Buffer.Length > MaxChars) Buffer.Remove(0, Buffer.Length / 2);
            Buffer.Append(s);
        }
        return 0;
    }
}
