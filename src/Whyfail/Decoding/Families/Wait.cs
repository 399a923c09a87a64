namespace Whyfail.Decoding;

/// <summary>wait4, waitid: options and id types (the status and siginfo are results: pointers).</summary>
internal static class WaitFamily
{
    public static void Register(Registry r)
    {
        r.Add("wait4", c => [c.Dec(0), c.Ptr(1), c.Flags(2, "wait4_options"), c.Ptr(3)]);
        r.Add("waitid", c => [c.Enum(0, "waitid_types", "P_???"), c.Dec(1), c.Ptr(2), c.Flags(3, "waitid_options"), c.Ptr(4)]);
    }
}
