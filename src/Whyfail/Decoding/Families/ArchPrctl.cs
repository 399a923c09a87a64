namespace Whyfail.Decoding;

/// <summary>arch_prctl: the ARCH_* code (an int) and the address or value, in hex.</summary>
internal static class ArchPrctlFamily
{
    public static void Register(Registry r) =>
        r.Add("arch_prctl", c => [c.Enum(0, "arch_prctl_codes", "ARCH_???"), c.Hex(1)]);
}
