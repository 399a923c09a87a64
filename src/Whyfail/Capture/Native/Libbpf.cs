using System.Runtime.InteropServices;

namespace Whyfail.Capture.Native;

/// <summary>
/// P/Invoke surface of libbpf (Debian: libbpf1). Only what whyfail uses. libbpf 1.x returns NULL
/// (pointers) or a negative error (ints) and sets errno; SetLastError captures it.
/// </summary>
internal static unsafe partial class Libbpf
{
    private const string Lib = "libbpf.so.1";

    [LibraryImport(Lib, EntryPoint = "bpf_object__open_mem", SetLastError = true)]
    internal static partial nint ObjectOpenMem(void* buf, nuint size, nint opts);

    /// <summary>bpf_object__open_mem with struct bpf_object_open_opts (only btf_custom_path is used).</summary>
    [LibraryImport(Lib, EntryPoint = "bpf_object__open_mem", SetLastError = true)]
    internal static partial nint ObjectOpenMem(void* buf, nuint size, ObjectOpenOpts* opts);

    /// <summary>struct bpf_object_open_opts (libbpf 1.1).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ObjectOpenOpts
    {
        public nuint Sz;
        public nint ObjectName;
        public byte RelaxedMaps;
        public nint PinRootPath;
        public uint RemovedAttachProgFd;
        public nint Kconfig;
        public nint BtfCustomPath;
        public nint KernelLogBuf;
        public nuint KernelLogSize;
        public uint KernelLogLevel;
    }

    [LibraryImport(Lib, EntryPoint = "libbpf_register_prog_handler", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int RegisterProgHandler(string sec, int progType, int expectedAttachType, ProgHandlerOpts* opts);

    /// <summary>struct libbpf_prog_handler_opts (libbpf 1.1).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ProgHandlerOpts
    {
        public nuint Sz;
        public nint Cookie;
        public nint Setup;
        public delegate* unmanaged<nint, ProgLoadOpts*, nint, int> PrepareLoad;
        public delegate* unmanaged<nint, nint, nint*, int> Attach;
    }

    [LibraryImport(Lib, EntryPoint = "bpf_program__section_name")]
    internal static partial nint ProgramSectionName(nint prog);

    [LibraryImport(Lib, EntryPoint = "bpf_program__set_type")]
    internal static partial int ProgramSetType(nint prog, int type);

    [LibraryImport(Lib, EntryPoint = "bpf_program__attach_trace", SetLastError = true)]
    internal static partial nint ProgramAttachTrace(nint prog);

    [LibraryImport(Lib, EntryPoint = "bpf_object__load", SetLastError = true)]
    internal static partial int ObjectLoad(nint obj);

    [LibraryImport(Lib, EntryPoint = "bpf_object__close")]
    internal static partial void ObjectClose(nint obj);

    [LibraryImport(Lib, EntryPoint = "bpf_object__find_program_by_name", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint FindProgram(nint obj, string name);

    [LibraryImport(Lib, EntryPoint = "bpf_object__find_map_by_name", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint FindMap(nint obj, string name);

    [LibraryImport(Lib, EntryPoint = "bpf_program__set_autoload")]
    internal static partial int ProgramSetAutoload(nint prog, [MarshalAs(UnmanagedType.U1)] bool autoload);

    [LibraryImport(Lib, EntryPoint = "bpf_program__autoload")]
    [return: MarshalAs(UnmanagedType.U1)]
    internal static partial bool ProgramAutoload(nint prog);

    [LibraryImport(Lib, EntryPoint = "bpf_object__next_program")]
    internal static partial nint NextProgram(nint obj, nint prev);

    /// <summary>Verifier log level for this program's load (4: statistics only).</summary>
    [LibraryImport(Lib, EntryPoint = "bpf_program__set_log_level")]
    internal static partial int ProgramSetLogLevel(nint prog, uint level);

    [LibraryImport(Lib, EntryPoint = "bpf_program__set_log_buf")]
    internal static partial int ProgramSetLogBuf(nint prog, byte* buf, nuint size);

    [LibraryImport(Lib, EntryPoint = "bpf_program__attach", SetLastError = true)]
    internal static partial nint ProgramAttach(nint prog);

    [LibraryImport(Lib, EntryPoint = "bpf_program__attach_tracepoint", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint ProgramAttachTracepoint(nint prog, string category, string name);

    [LibraryImport(Lib, EntryPoint = "bpf_program__attach_iter", SetLastError = true)]
    internal static partial nint ProgramAttachIter(nint prog, nint opts);

    [LibraryImport(Lib, EntryPoint = "bpf_program__name")]
    internal static partial nint ProgramName(nint prog);

    [LibraryImport(Lib, EntryPoint = "bpf_link__destroy")]
    internal static partial int LinkDestroy(nint link);

    /// <summary>After this, destroying the link frees libbpf's memory only: the kernel link stays as long as its descriptors do.</summary>
    [LibraryImport(Lib, EntryPoint = "bpf_link__disconnect")]
    internal static partial void LinkDisconnect(nint link);

    [LibraryImport(Lib, EntryPoint = "bpf_link__fd")]
    internal static partial int LinkFd(nint link);

    [LibraryImport(Lib, EntryPoint = "bpf_map__fd")]
    internal static partial int MapFd(nint map);

    [LibraryImport(Lib, EntryPoint = "bpf_map__set_max_entries")]
    internal static partial int MapSetMaxEntries(nint map, uint maxEntries);

    [LibraryImport(Lib, EntryPoint = "bpf_map__initial_value")]
    internal static partial void* MapInitialValue(nint map, out nuint size);

    [LibraryImport(Lib, EntryPoint = "bpf_map__reuse_fd", SetLastError = true)]
    internal static partial int MapReuseFd(nint map, int fd);

    [LibraryImport(Lib, EntryPoint = "bpf_map_update_elem", SetLastError = true)]
    internal static partial int MapUpdateElem(int fd, void* key, void* value, ulong flags);

    /// <summary>bpf_map_update_batch(fd, keys, values, count, opts): *count elements in one call (opts may be null).</summary>
    [LibraryImport(Lib, EntryPoint = "bpf_map_update_batch", SetLastError = true)]
    internal static partial int MapUpdateBatch(int fd, void* keys, void* values, uint* count, void* opts);

    [LibraryImport(Lib, EntryPoint = "bpf_map_lookup_elem", SetLastError = true)]
    internal static partial int MapLookupElem(int fd, void* key, void* value);

    [LibraryImport(Lib, EntryPoint = "bpf_iter_create", SetLastError = true)]
    internal static partial int IterCreate(int linkFd);

    [LibraryImport(Lib, EntryPoint = "ring_buffer__new", SetLastError = true)]
    internal static partial nint RingBufferNew(int mapFd, delegate* unmanaged<nint, void*, nuint, int> callback, nint ctx, nint opts);

    [LibraryImport(Lib, EntryPoint = "ring_buffer__poll", SetLastError = true)]
    internal static partial int RingBufferPoll(nint rb, int timeoutMs);

    [LibraryImport(Lib, EntryPoint = "ring_buffer__consume", SetLastError = true)]
    internal static partial int RingBufferConsume(nint rb);

    [LibraryImport(Lib, EntryPoint = "ring_buffer__epoll_fd")]
    internal static partial int RingBufferEpollFd(nint rb);

    [LibraryImport(Lib, EntryPoint = "ring_buffer__free")]
    internal static partial void RingBufferFree(nint rb);

    [LibraryImport(Lib, EntryPoint = "libbpf_set_print")]
    internal static partial nint SetPrint(delegate* unmanaged<int, nint, nint, int> fn);

    [LibraryImport(Lib, EntryPoint = "btf__load_vmlinux_btf", SetLastError = true)]
    internal static partial nint BtfLoadVmlinux();

    [LibraryImport(Lib, EntryPoint = "btf__find_by_name_kind", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int BtfFindByNameKind(nint btf, string name, uint kind);

    [LibraryImport(Lib, EntryPoint = "btf__type_by_id")]
    private static partial nint BtfTypeById(nint btf, uint id);

    /// <summary>
    /// Arguments of the tracepoint NAME as tp_btf sees them: btf_trace_NAME is a typedef of a pointer to a
    /// prototype whose first argument is the probe's data (not passed to the program). -1: not found.
    /// struct btf_type is { u32 name_off; u32 info (vlen in bits 0-15, kind in 24-28); u32 size_or_type; }.
    /// </summary>
    internal static unsafe int TracepointArity(nint btf, string name)
    {
        int id = BtfFindByNameKind(btf, "btf_trace_" + name, BTF_KIND_TYPEDEF);
        if (id <= 0) return -1;
        uint* t = (uint*)BtfTypeById(btf, (uint)id);
        for (int hops = 0; t != null && hops < 4; hops++)
        {
            uint kind = (t[1] >> 24) & 0x1f;
            if (kind == BTF_KIND_FUNC_PROTO) return (int)(t[1] & 0xffff) - 1;
            t = (uint*)BtfTypeById(btf, t[2]); // typedef → pointer → prototype
        }
        return -1;
    }

    [LibraryImport(Lib, EntryPoint = "btf__free")]
    internal static partial void BtfFree(nint btf);

    [LibraryImport(Lib, EntryPoint = "bpf_program__insns")]
    internal static partial nint ProgramInsns(nint prog);

    [LibraryImport(Lib, EntryPoint = "bpf_program__insn_cnt")]
    internal static partial nuint ProgramInsnCount(nint prog);

    [LibraryImport(Lib, EntryPoint = "bpf_program__fd")]
    internal static partial int ProgramFd(nint prog);

    [LibraryImport(Lib, EntryPoint = "bpf_prog_load", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int ProgLoad(int progType, string name, string license, nint insns, nuint insnCount, ProgLoadOpts* opts);

    [LibraryImport(Lib, EntryPoint = "bpf_link_create", SetLastError = true)]
    internal static partial int LinkCreate(int progFd, int targetFd, int attachType, nint opts);

    [LibraryImport(Lib, EntryPoint = "bpf_program__attach_kprobe_multi_opts", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint ProgramAttachKprobeMulti(nint prog, string? pattern, KprobeMultiOpts* opts);

    [LibraryImport(Lib, EntryPoint = "bpf_program__attach_kprobe_opts", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint ProgramAttachKprobe(nint prog, string? function, KprobeOpts* opts);

    /// <summary>struct bpf_prog_load_opts (libbpf 1.1).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ProgLoadOpts
    {
        public nuint Sz;
        public int Attempts;
        public int ExpectedAttachType;
        public uint ProgBtfFd, ProgFlags, ProgIfindex, KernVersion, AttachBtfId, AttachProgFd, AttachBtfObjFd;
        public nint FdArray;
        public nint FuncInfo;
        public uint FuncInfoCnt, FuncInfoRecSize;
        public nint LineInfo;
        public uint LineInfoCnt, LineInfoRecSize;
        public uint LogLevel, LogSize;
        public nint LogBuf;
    }

    /// <summary>struct bpf_kprobe_multi_opts (libbpf 1.1).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct KprobeMultiOpts
    {
        public nuint Sz;
        public nint Syms;
        public nint Addrs;
        public nint Cookies;
        public nuint Cnt;
        public byte Retprobe;
    }

    /// <summary>struct bpf_kprobe_opts (libbpf 1.1).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct KprobeOpts
    {
        public nuint Sz;
        public ulong BpfCookie;
        public nuint Offset;
        public byte Retprobe;
    }


    internal const uint BTF_KIND_TYPEDEF = (uint)BtfKind.Typedef;
    internal const uint BTF_KIND_FUNC = (uint)BtfKind.Func;
    internal const uint BTF_KIND_FUNC_PROTO = (uint)BtfKind.FuncProto;
    internal const uint BTF_KIND_STRUCT = (uint)BtfKind.Struct;
}
