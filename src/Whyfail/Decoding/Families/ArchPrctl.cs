namespace Whyfail.Decoding;

/// <summary>arch_prctl: the ARCH_* code (an int) and the address or value, in hex; the ARCH_GET_* codes take a
/// pointer the kernel writes to (NULL when zero, as strace shows it); ARCH_REQ_XCOMP_PERM and ARCH_REQ_XCOMP_GUEST_PERM
/// take an XSAVE state component, named after the kernel's enum xfeature (<c>0x11 /* XFEATURE_XTILE_CFG */</c>).</summary>
internal static class ArchPrctlFamily
{
    public static void Register(Registry r) =>
        r.Add("arch_prctl", c => [c.Enum(0, "arch_prctl_codes", "ARCH_???"),
                                  IsGet(c.UInt(0)) ? c.Ptr(1) : IsXcompRequest(c.UInt(0)) ? Xfeature(c[1]) : c.Hex(1)]);

    private static bool IsGet(uint code) =>
        Xlat.Table("arch_prctl_codes").Lookup(code) is { } n && n.StartsWith("ARCH_GET_", StringComparison.Ordinal);

    private static bool IsXcompRequest(uint code) =>
        Xlat.Table("arch_prctl_codes").Lookup(code) is "ARCH_REQ_XCOMP_PERM" or "ARCH_REQ_XCOMP_GUEST_PERM";

    /// <summary>The component number in hex with its name as a comment, or the bare number when it has none.</summary>
    private static string Xfeature(ulong v) =>
        Xlat.Table("xfeatures").Lookup(v) is { } n ? Fmt.Hex(v) + " /* " + n + " */" : Fmt.Hex(v);
}
