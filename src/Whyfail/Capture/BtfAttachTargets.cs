using System.Runtime.InteropServices;
using Whyfail.Capture.Bpf;
using Whyfail.Capture.Native;
using static Whyfail.Capture.Native.Libbpf;

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
            if (_castKfunc > 0) PatchCasts(prog, _castKfunc);
            return Libbpf.ProgramSetType(prog, Libbpf.BPF_PROG_TYPE_TRACING);
        }
        catch (Exception)
        {
            return -5; // EIO: never let an exception cross into libbpf
        }
    }

    /// <summary>
    /// The kernel's BTF ids of the kfunc bpf_rdonly_cast, of struct task_struct, and of struct mount and dentry (0 if absent), when the programs' placeholder calls
    /// (WF_CAST_HELPER: see untrusted_task in bpf/whyfail.bpf.c) are to become calls of that kfunc: the handlers are in
    /// place (<see cref="PrepareLoad"/> turns the calls into the kfunc's just before each load), the kernel has both
    /// (bpf_rdonly_cast: 6.2 and later), and no load was refused with the cast (<see cref="CastDisabled"/>). The ids come
    /// from <see cref="BtfIdCache"/> (remembered per boot), so libbpf never needs the kernel's whole BTF for them.
    /// Zeros: no cast; cfg.task_btf_id stays 0 and the programs load through the trusted task pointer, as before.
    /// WHYFAIL_TASK_CAST=0 switches it off (to measure the verifier with and without it).
    /// </summary>
    public static (int Kfunc, int Task, int Mount, int Dentry) TaskCast()
    {
        _castKfunc = 0;
        if (CastDisabled || !Registered || Environment.GetEnvironmentVariable("WHYFAIL_TASK_CAST") == "0") return (0, 0, 0, 0);
        int kfunc = BtfIdCache.FunctionId("bpf_rdonly_cast");
        int task = kfunc > 0 ? BtfIdCache.Id("task_struct", Libbpf.BTF_KIND_STRUCT) : 0;
        if (kfunc <= 0 || task <= 0) return (0, 0, 0, 0);
        _castKfunc = kfunc;
        return (kfunc, task, Math.Max(BtfIdCache.Id("mount", Libbpf.BTF_KIND_STRUCT), 0),
            Math.Max(BtfIdCache.Id("dentry", Libbpf.BTF_KIND_STRUCT), 0));
    }

    /// <summary>Set when a load with the cast was refused: the rest of this run loads without it.</summary>
    public static bool CastDisabled { get; set; }

    private static int _castKfunc;

    /// <summary>Whether the last <see cref="TaskCast"/> chose the cast: this load's calls become the kfunc's.</summary>
    public static bool CastActive => _castKfunc > 0;

    /// <summary>
    /// Every placeholder call of the program (call WF_CAST_HELPER, a helper number no kernel has) becomes a call of the
    /// kfunc (src_reg BPF_PSEUDO_KFUNC_CALL, imm its BTF id in vmlinux, off 0). libbpf has relocated the program by now
    /// and loads this very buffer next (bpf_object_load_prog passes prog->insns).
    /// </summary>
    private static void PatchCasts(nint prog, int kfunc)
    {
        byte* insn = (byte*)Libbpf.ProgramInsns(prog);
        nuint count = Libbpf.ProgramInsnCount(prog);
        if (insn == null) return;
        for (nuint i = 0; i < count; i++, insn += 8)
        {
            // struct bpf_insn: code, dst_reg:4 | src_reg:4 (little endian: dst in the low nibble), off (s16), imm (s32)
            if (insn[0] != 0x85 /* BPF_JMP | BPF_CALL */ || insn[1] != 0 || *(int*)(insn + 4) != WfConst.CastHelper) continue;
            insn[1] = 2 << 4; // BPF_PSEUDO_KFUNC_CALL
            *(short*)(insn + 2) = 0; // vmlinux's BTF
            *(int*)(insn + 4) = kfunc;
        }
    }

    [UnmanagedCallersOnly]
    private static int AttachTrace(nint prog, nint cookie, nint* link)
    {
        *link = Libbpf.ProgramAttachTrace(prog);
        return *link != 0 ? 0 : -Marshal.GetLastSystemError();
    }
}
