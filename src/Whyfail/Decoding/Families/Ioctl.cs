namespace Whyfail.Decoding;

/// <summary>
/// ioctl: the request by name from the table of common requests (Data/xlat.tsv "ioctls"), else taken
/// apart with the _IOC layout: _IOC(_IOC_READ, 0x54, 0x13, 0x8). The argument stays in hex.
/// </summary>
internal static class IoctlFamily
{
    private static readonly XlatTable Requests = Xlat.Table("ioctls");
    private static readonly XlatTable Layout = Xlat.Table("ioc_layout");
    private static readonly XlatTable Dir = Xlat.Table("ioc_dir");

    public static void Register(Registry r)
    {
        r.Add("ioctl", c => [c.Fd(0), Request(c.UInt(1)), Arg(c)]);
    }

    /// <summary>
    /// The argument: in hex, or NULL when zero for a request the table names (strace decodes those, and their
    /// argument is a pointer for all but a few); an unnamed request's zero stays 0, as strace prints it.
    /// </summary>
    private static string Arg(Call c) => c[2] == 0 && Requests.Lookup(c.UInt(1)) is not null ? "NULL" : c.Hex(2);

    public static string Request(uint req) => Requests.Lookup(req) ?? Ioc(req);

    /// <summary>_IOC(dir, type, nr, size) for a request the table does not name.</summary>
    public static string Ioc(uint req)
    {
        uint Field(string shift, string bits) =>
            (req >> (int)Layout[shift]) & (uint)((1UL << (int)Layout[bits]) - 1);
        uint dir = Field("_IOC_DIRSHIFT", "_IOC_DIRBITS");
        uint type = Field("_IOC_TYPESHIFT", "_IOC_TYPEBITS");
        uint nr = Field("_IOC_NRSHIFT", "_IOC_NRBITS");
        uint size = Field("_IOC_SIZESHIFT", "_IOC_SIZEBITS");
        return $"_IOC({Dir.Flags(dir, "_IOC_NONE")}, {Fmt.Hex(type)}, {Fmt.Hex(nr)}, {Fmt.Hex(size)})";
    }
}
