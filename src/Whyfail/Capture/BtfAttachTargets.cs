using System.Runtime.InteropServices;
using Whyfail.Capture.Native;

namespace Whyfail.Capture;

/// <summary>
/// The kernel BTF ids that whyfail's tp_btf/, iter/ and fexit/ programs attach to, given to the kernel from
/// <see cref="BtfIdCache"/> instead of libbpf's own search. libbpf 1.1 parses the kernel's whole BTF
/// (5 MB) when an object has a program of type TRACING, only to find these ids (prog_needs_vmlinux_btf);
/// with the CO-RE relocations answered by <see cref="CoreBtf"/>'s small file, these ids are the last
/// reason for that parse. So those sections get a handler of whyfail's (libbpf_register_prog_handler):
/// the program is opened with a type that needs no kernel BTF, and just before it is loaded the handler
/// gives it its real type (TRACING), its attach id (btf_trace_NAME, bpf_iter_NAME: what libbpf looks for),
/// and attaches tp_btf and fexit programs as libbpf does (bpf_program__attach_trace). (fexit/: the origin program
/// of the fexit backend, and cap_capable's on kernels without its tracepoint — Debian 12's 6.1, whose default origin
/// backend is fexit: libbpf's parse cost ~0.5 s of the lab's emulated CPU before the command could start.)
/// Registered once per process, and only where the id cache is usable (root); the handler applies to every
/// object opened after it.
/// </summary>
internal static unsafe class BtfAttachTargets
{
    private const int BPF_PROG_TYPE_RAW_TRACEPOINT = 17, BPF_TRACE_RAW_TP = 23, BPF_TRACE_ITER = 28;
    private const nint TracepointCookie = 0, IteratorCookie = 1, FexitCookie = 2;
    private static readonly object Lock = new();
    private static bool _tried;

    /// <summary>Registers the handlers (once); false when they are not in place.</summary>
    public static bool Register()
    {
        lock (Lock)
        {
            if (_tried) return Registered;
            _tried = true;
            var opts = new Libbpf.ProgHandlerOpts
            {
                Sz = (nuint)sizeof(Libbpf.ProgHandlerOpts),
                Cookie = TracepointCookie,
                PrepareLoad = &PrepareLoad,
                Attach = &AttachTrace,
            };
            if (Libbpf.RegisterProgHandler("tp_btf/", BPF_PROG_TYPE_RAW_TRACEPOINT, BPF_TRACE_RAW_TP, &opts) <= 0) return false;
            opts.Cookie = IteratorCookie;
            opts.Attach = null; // iterators are run with bpf_program__attach_iter (BpfObject.RunIterator)
            // Without the iterator's handler the tracepoints' still stand; libbpf then reads the kernel's BTF for the iterator.
            Registered = Libbpf.RegisterProgHandler("iter/", BPF_PROG_TYPE_RAW_TRACEPOINT, BPF_TRACE_ITER, &opts) > 0;
            opts.Cookie = FexitCookie;
            opts.Attach = &AttachTrace;
            // Without it libbpf's own fexit/ handling stands (and reads the kernel's BTF for those programs).
            Libbpf.RegisterProgHandler("fexit/", BPF_PROG_TYPE_RAW_TRACEPOINT, Libbpf.BPF_TRACE_FEXIT, &opts);
            return true;
        }
    }

    /// <summary>Whether both handlers tp_btf/ and iter/ are registered.</summary>
    public static bool Registered { get; private set; }

    /// <summary>The BTF type whose id the kernel expects for the program of this section, as libbpf names it.</summary>
    internal static (string Name, uint Kind)? Target(string section, bool iterator, bool fexit = false)
    {
        int slash = section.IndexOf('/');
        if (slash < 0 || slash == section.Length - 1) return null;
        string target = section[(slash + 1)..];
        return fexit ? (target, Libbpf.BTF_KIND_FUNC)
            : iterator ? ("bpf_iter_" + target, Libbpf.BTF_KIND_FUNC) : ("btf_trace_" + target, Libbpf.BTF_KIND_TYPEDEF);
    }

    [UnmanagedCallersOnly]
    private static int PrepareLoad(nint prog, Libbpf.ProgLoadOpts* opts, nint cookie)
    {
        try
        {
            string section = Marshal.PtrToStringUTF8(Libbpf.ProgramSectionName(prog)) ?? "";
            if (Target(section, cookie == IteratorCookie, cookie == FexitCookie) is not { } t) return -22; // EINVAL, as libbpf: no target named
            int id = BtfIdCache.Id(t.Name, t.Kind);
            if (id <= 0) return -3; // ESRCH, as libbpf when the kernel has no such type
            opts->AttachBtfId = (uint)id;
            opts->AttachBtfObjFd = 0; // vmlinux
            return Libbpf.ProgramSetType(prog, Libbpf.BPF_PROG_TYPE_TRACING);
        }
        catch (Exception)
        {
            return -5; // EIO: never let an exception cross into libbpf
        }
    }

    [UnmanagedCallersOnly]
    private static int AttachTrace(nint prog, nint cookie, nint* link)
    {
        *link = Libbpf.ProgramAttachTrace(prog);
        return *link != 0 ? 0 : -Marshal.GetLastSystemError();
    }
}
