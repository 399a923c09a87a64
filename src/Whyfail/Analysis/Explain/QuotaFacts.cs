using System.Runtime.InteropServices;
using System.Text;
using Whyfail.Capture.Native;
using static Whyfail.Capture.Native.Libc;

namespace Whyfail.Analysis.Explain;

/// <summary>A disk quota as Libc.Quotactl(Q_GETQUOTA) reports it: space in bytes, limits of 0 meaning none.</summary>
public readonly record struct QuotaUsage(string Kind, uint Id, ulong SpaceHard, ulong SpaceSoft, ulong SpaceUsed,
    ulong FilesHard, ulong FilesSoft, ulong FilesUsed, ulong SpaceGraceEnds, ulong FilesGraceEnds)
{
    private static bool Over(ulong used, ulong add, ulong hard, ulong soft, ulong graceEnds, long now) =>
        (hard > 0 && used + add > hard) || (soft > 0 && used + add > soft && graceEnds != 0 && (long)graceEnds <= now);

    /// <summary>Writing <paramref name="bytes"/> more would pass the hard limit, or the soft one after its grace time.</summary>
    public bool SpaceRefuses(ulong bytes, long now) => Over(SpaceUsed, Math.Max(bytes, 1), SpaceHard, SpaceSoft, SpaceGraceEnds, now);

    /// <summary>One more file would pass the inode limit.</summary>
    public bool FilesRefuse(long now) => Over(FilesUsed, 1, FilesHard, FilesSoft, FilesGraceEnds, now);

    public bool HasLimits => SpaceHard > 0 || SpaceSoft > 0 || FilesHard > 0 || FilesSoft > 0;
}

/// <summary>A btrfs quota group of a subvolume (level 0), from /sys/fs/btrfs/UUID/qgroups/0_ID: bytes, 0 = no limit.</summary>
/// <param name="HigherLimits">Some qgroup of a higher level (n/ID, n &gt; 0) on the file system has a limit too.</param>
public readonly record struct Qgroup(ulong Subvolume, ulong Referenced, ulong MaxReferenced, ulong Exclusive, ulong MaxExclusive, bool HigherLimits)
{
    public bool Limited => MaxReferenced > 0 || MaxExclusive > 0;
}

/// <summary>Reads disk quotas (quotactl Q_GETQUOTA on the file system's device) and a file's project id.</summary>
internal static unsafe class QuotaFacts
{


    private static byte[] Z(string s) => Encoding.UTF8.GetBytes(s + "\0");

    /// <summary>The quota of one kind ("user", "group", "project") for id on the device, or null (no quota there).</summary>
    public static QuotaUsage? Get(string device, string kind, uint id)
    {
        int type = kind switch { "user" => USRQUOTA, "group" => GRPQUOTA, _ => PRJQUOTA };
        // struct if_dqblk: bhardlimit, bsoftlimit (1 KiB blocks), curspace (bytes), ihardlimit, isoftlimit, curinodes,
        // btime, itime (u64 each), valid (u32)
        byte* b = stackalloc byte[72];
        new Span<byte>(b, 72).Clear();
        var dev = Z(device);
        int r;
        fixed (byte* d = dev) r = Libc.Quotactl(unchecked((Q_GETQUOTA << 8) | type), d, unchecked((int)id), b); // QCMD
        if (r != 0) return null;
        ulong U(int i) => *(ulong*)(b + 8 * i);
        return new QuotaUsage(kind, id, U(0) * 1024, U(1) * 1024, U(2), U(3), U(4), U(5), U(6), U(7));
    }

    /// <summary>
    /// The qgroup of the subvolume holding <paramref name="path"/> on the btrfs file system of <paramref name="device"/>
    /// (found in /sys/fs/btrfs by its device), or null when quotas are off or it cannot be read.
    /// </summary>
    public static Qgroup? BtrfsQgroup(string device, string path)
    {
        // BTRFS_IOC_INO_LOOKUP: _IOWR(0x94, 18, struct btrfs_ioctl_ino_lookup_args) (4096 bytes)
        string dev = Path.GetFileName(device);
        string? fs = null;
        try
        {
            fs = Directory.EnumerateDirectories("/sys/fs/btrfs").FirstOrDefault(d => File.Exists($"{d}/devices/{dev}") || Directory.Exists($"{d}/devices/{dev}"));
        }
        catch (IOException) { }
        if (fs is null) return null;
        var p = Z(path);
        int fd;
        fixed (byte* pp = p) fd = Libc.Open(pp, 0x80800 /* O_RDONLY | O_NONBLOCK | O_CLOEXEC */);
        if (fd < 0) return null;
        ulong subvol;
        try
        {
            // treeid 0 and objectid 256 (the first free object id, a subvolume's root): the kernel fills in the tree id
            byte* a = stackalloc byte[4096];
            new Span<byte>(a, 4096).Clear();
            *(ulong*)(a + 8) = 256;
            if (Libc.Ioctl(fd, BTRFS_IOC_INO_LOOKUP, a) != 0) return null;
            subvol = *(ulong*)a;
        }
        finally { Libc.Close(fd); }
        string q = $"{fs}/qgroups/0_{subvol}";
        ulong? U(string f) => ulong.TryParse(ProcFs.Read($"{q}/{f}")?.Trim(), out var v) ? v : null;
        if (U("referenced") is not { } rfer) return null;
        bool higher = Directory.EnumerateDirectories($"{fs}/qgroups").Select(Path.GetFileName)
            .Any(n => n is not null && !n.StartsWith("0_", StringComparison.Ordinal) && (ProcFs.Read($"{fs}/qgroups/{n}/limit_flags")?.Trim() ?? "0") != "0");
        return new Qgroup(subvol, rfer, U("max_referenced") ?? 0, U("exclusive") ?? 0, U("max_exclusive") ?? 0, higher);
    }

    /// <summary>The project id of a file (FS_IOC_FSGETXATTR), or null.</summary>
    public static uint? ProjectId(string path)
    {
        var p = Z(path);
        int fd;
        fixed (byte* pp = p) fd = Libc.Open(pp, 0x80800 /* O_RDONLY | O_NONBLOCK | O_CLOEXEC */);
        if (fd < 0) return null;
        try
        {
            byte* x = stackalloc byte[28];
            return Libc.Ioctl(fd, FS_IOC_FSGETXATTR, x) == 0 ? *(uint*)(x + 12) : null;
        }
        finally { Libc.Close(fd); }
    }
}
