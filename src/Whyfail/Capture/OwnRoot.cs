#pragma warning disable CA1416 // Linux only
using System.Runtime.InteropServices;
using Whyfail.Capture.Native;

namespace Whyfail.Capture;

/// <summary>
/// whyfail's own root as the kernel knows it (statx of "/": mount id and inode), so that the kernel side names a
/// traced task's root from it (wf_config.own_root_*): a chrooted whyfail, as in the lab, then sees a task sharing its
/// root as "/" rather than as the root's place in the mount namespace (e.g. "/newroot").
/// </summary>
internal static partial class OwnRoot
{
    /// <summary>(mount id, inode) of "/", or (0, 0) when the kernel does not give the mount id (before 5.8).</summary>
    public static (uint MountId, ulong Inode) Read() =>
        Libc.Statx(Libc.AT_FDCWD, "/", 0, Libc.STATX_INO | Libc.STATX_MNT_ID, out var b) == 0 && (b.Mask & Libc.STATX_MNT_ID) != 0 && b.MntId <= uint.MaxValue
            ? ((uint)b.MntId, b.Ino)
            : (0, 0);
}
