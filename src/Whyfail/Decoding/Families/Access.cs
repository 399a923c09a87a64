namespace Whyfail.Decoding;

/// <summary>access, faccessat, faccessat2: F_OK or R_OK|W_OK|X_OK.</summary>
internal static class AccessFamily
{
    public static void Register(Registry r)
    {
        r.Add("access", c => [c.Path(0), Mode(c, 1)]);
        r.Add("faccessat", c => [c.Dirfd(0), c.Path(1), Mode(c, 2)]);
        r.Add("faccessat2", c => [c.Dirfd(0), c.Path(1), Mode(c, 2), c.Flags(3, "faccessat_flags")]);
    }

    private static string Mode(Call c, int i) => c.Flags(i, "access_modes", "F_OK");
}
