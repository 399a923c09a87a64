namespace Whyfail.Events;

/// <summary>
/// Names for the raw kernel values an event carries (origin records, stack addresses), when the session can name
/// them (an origin backend attached, kallsyms readable). Output formats that show raw records ask it; without one
/// they print addresses.
/// </summary>
public interface IKernelNames
{
    /// <summary>The function an origin record is about ("vfs_write").</summary>
    string Origin(OriginRecord record);
    /// <summary>A kernel text address as "function+0xoff", or the address in hex.</summary>
    string Address(ulong address);
}
