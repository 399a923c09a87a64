namespace Whyfail.Decoding;

/// <summary>
/// Loading kernel code from a file: finit_module (the module's descriptor, its parameters, MODULE_INIT_ flags) and
/// kexec_file_load (kernel and initrd descriptors, the command line, KEXEC_FILE_ flags). Neither has a tracefs format on
/// every kernel, so the arguments are declared here as strace shows them: descriptors are ints.
/// </summary>
internal static class ModuleFamily
{
    public static void Register(Registry r)
    {
        r.Add("finit_module", c => [c.Fd(0), c.Str(1), c.Flags(2, "module_init_flags")], s => s.Str(1));
        r.Add("kexec_file_load", c => [c.Fd(0), c.Fd(1), c.UDec(2), c.Str(3), Xlat.Table("kexec_file_flags").Flags(c[4])],
              s => s.Str(3));
    }
}
