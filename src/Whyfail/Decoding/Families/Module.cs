namespace Whyfail.Decoding;

/// <summary>
/// Loading kernel code: init_module, delete_module, kexec_load; from a file: finit_module (the module's descriptor, its parameters, MODULE_INIT_ flags) and
/// kexec_file_load (kernel and initrd descriptors, the command line, KEXEC_FILE_ flags). Neither has a tracefs format on
/// every kernel, so the arguments are declared here as strace shows them: descriptors are ints.
/// </summary>
internal static class ModuleFamily
{
    public static void Register(Registry r)
    {
        r.Add("finit_module", c => [c.Fd(0), c.Str(1), c.Flags(2, "module_init_flags")], s => s.Str(1));
        r.Add("init_module", c => [c.Ptr(0), c.UDec(1), c.Str(2)], s => s.Str(2));
        r.Add("delete_module", c => [c.Str(0), c.Flags(1, "delete_module_flags")], s => s.Str(0));
        // The segments are read by their count, KEXEC_SEGMENT_MAX at most (more is EINVAL: the address is shown).
        r.Add("kexec_load", c => [c.Ptr(0), c.UDec(1), Segments(c, 2, c[1]), KexecFlags(c[3])],
              s => s.Fixed(2, SegmentMax * Segment.Size));
        // The command line is read by its length (cmdline_len counts the NUL): shown as that many bytes, as strace does.
        r.Add("kexec_file_load", c => [c.Fd(0), c.Fd(1), c.UDec(2), c.Buf(3), Xlat.Table("kexec_file_flags").Flags(c[4])],
              s => s.Sized(3, 2, CaptureSpec.BufferSize));
    }

    private static readonly StructLayout Segment = Xlat.Struct("kexec_segment");
    private static readonly int SegmentMax = (int)Xlat.Table("kexec_masks")["KEXEC_SEGMENT_MAX"];

    /// <summary>[{buf=0x7f…, bufsz=4096, mem=0x1000000, memsz=4096}, …], or the address past KEXEC_SEGMENT_MAX.</summary>
    private static string Segments(Call c, int i, ulong count) =>
        count > (ulong)SegmentMax ? c.Ptr(i) : Arrays.Of(c, i, count, Segment.Size, (m, at) => Fmt.Struct([
            "buf=" + Fmt.Ptr(m.U64(at + Segment.Off("buf"))),
            "bufsz=" + Fmt.UDec(m.U64(at + Segment.Off("bufsz"))),
            "mem=" + Fmt.Ptr(m.U64(at + Segment.Off("mem"))),
            "memsz=" + Fmt.UDec(m.U64(at + Segment.Off("memsz"))),
        ]));

    /// <summary>kexec_load's flags: the architecture in the high half (KEXEC_ARCH_X86_64), then KEXEC_ flags, as strace shows them.</summary>
    private static string KexecFlags(ulong flags)
    {
        ulong mask = Xlat.Table("kexec_masks")["KEXEC_ARCH_MASK"];
        ulong arch = flags & mask, rest = flags & ~mask;
        var name = Xlat.Table("kexec_arch").Lookup(arch);
        string head = name ?? Fmt.Hex(arch);
        if (rest == 0) return head;
        return head + "|" + Xlat.Table("kexec_load_flags").Flags(rest);
    }
}
