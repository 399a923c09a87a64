namespace Whyfail.Decoding;

/// <summary>arch_prctl: the ARCH_* code (an int) and the address or value, in hex; the ARCH_GET_* codes take a
/// pointer the kernel writes to (NULL when zero, as strace shows it).</summary>
internal static class ArchPrctlFamily
{
    public static void Register(Registry r) =>
        r.Add("arch_prctl", c => [c.Enum(0, "arch_prctl_codes", "ARCH_???"), IsGet(c.UInt(0)) ? c.Ptr(1) : c.Hex(1)]);

    private static bool IsGet(uint code) =>
        Xlat.Table("arch_prctl_codes").Lookup(code) is { } n && n.StartsWith("ARCH_GET_", StringComparison.Ordinal);
}
