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
        r.Add("kexec_load", c => [c.Ptr(0), c.UDec(1), c.Ptr(2), KexecFlags(c[3])]);
        // The command line is read by its length (cmdline_len counts the NUL): shown as that many bytes, as strace does.
        r.Add("kexec_file_load", c => [c.Fd(0), c.Fd(1), c.UDec(2), c.Buf(3), Xlat.Table("kexec_file_flags").Flags(c[4])],
              s => s.Sized(3, 2, CaptureSpec.BufferSize));
    }

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
