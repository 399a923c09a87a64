#pragma warning disable CA1416 // Linux only
using System.Runtime.InteropServices;
using Whyfail.Capture.Native;

namespace Whyfail;

/// <summary>
/// Checks on paths used for root-written caches, with lstat semantics (statx AT_SYMLINK_NOFOLLOW):
/// no symlinks, the expected owner, no group/other write access (a root-owned sticky directory such
/// as /tmp is accepted as an ancestor).
/// </summary>
internal static partial class SafeDirectory
{
    /// <summary>lstat: (mode, uid), or null when the path does not exist.</summary>
    public static (int Mode, uint Uid)? LStat(string path)
    {
        if (Libc.Statx(Libc.AT_FDCWD, path, Libc.AT_SYMLINK_NOFOLLOW, Libc.STATX_TYPE | Libc.STATX_MODE | Libc.STATX_UID, out var b) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno == Errnos.ENOENT) return null;
            throw new IOException($"cannot stat {path}: errno {errno}");
        }
        return (b.Mode, b.Uid);
    }

    public static bool IsSymlink(int mode) => ((uint)mode & Libc.S_IFMT) == Libc.S_IFLNK;
    public static bool IsDirectory(int mode) => ((uint)mode & Libc.S_IFMT) == Libc.S_IFDIR;
    public static bool IsRegular(int mode) => ((uint)mode & Libc.S_IFMT) == Libc.S_IFREG;

    /// <summary>
    /// Creates <paramref name="directory"/> (mode 0700) and any missing parents, then checks every
    /// component from / down: none is a symlink, each is owned by <paramref name="owner"/>, the last is
    /// not writable by group or others, and an ancestor writable by others is root-owned and sticky.
    /// Returns null when safe, else why not.
    /// </summary>
    public static string? EnsurePrivate(string directory, uint owner) => Check(directory, owner, create: true);

    /// <summary>The same checks without creating anything: a missing directory is "unsafe" too.</summary>
    public static string? EnsurePrivateNoCreate(string directory, uint owner) => Check(directory, owner, create: false);

    private static string? Check(string directory, uint owner, bool create)
    {
        string full = Path.GetFullPath(directory);
        var parts = full.Split('/', StringSplitOptions.RemoveEmptyEntries);
        string path = "";
        for (int i = 0; i < parts.Length; i++)
        {
            path += "/" + parts[i];
            bool last = i == parts.Length - 1;
            var st = LStat(path);
            if (st == null)
            {
                if (!create) return $"{path} does not exist";
                try
                {
                    Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    return $"cannot create {path}: {e.Message}";
                }
                st = LStat(path);
                if (st == null) return $"{path} vanished after creating it";
            }
            var (mode, uid) = st.Value;
            if (!last)
            {
                if (AncestorProblem(path, mode, uid, owner) is { } why) return why;
                continue;
            }
            if (IsSymlink(mode)) return $"{path} is a symbolic link";
            if (!IsDirectory(mode)) return $"{path} is not a directory";
            if (uid != owner) return $"{path} is owned by uid {uid}, not {owner}";
            if ((mode & 0x12) != 0) return $"{path} is writable by group or others (mode {Convert.ToString(mode & 0xfff, 8)})";
        }
        return null;
    }

    /// <summary>
    /// Whether <paramref name="directory"/> and every directory above it up to / is one that only root or
    /// <paramref name="owner"/> can change (the rule <see cref="EnsurePrivate"/> applies to ancestors): a real directory,
    /// owned by one of them, not writable by group or others unless root-owned and sticky. A file checked in such a
    /// directory cannot be renamed away and replaced by someone else before it is used.
    /// </summary>
    public static bool Unchangeable(string directory, uint owner)
    {
        for (string? d = Path.GetFullPath(directory); d != null; d = Path.GetDirectoryName(d))
            if (LStat(d) is not { } st || AncestorProblem(d, st.Mode, st.Uid, owner) is not null) return false;
        return true;
    }

    /// <summary>Why a directory above the one checked lets someone other than root or the owner change it, or null.</summary>
    private static string? AncestorProblem(string path, int mode, uint uid, uint owner)
    {
        if (IsSymlink(mode)) return $"{path} is a symbolic link";
        if (!IsDirectory(mode)) return $"{path} is not a directory";
        if (uid != 0 && uid != owner) return $"{path} is owned by uid {uid}";
        bool otherWritable = (mode & 0x12) != 0; // S_IWGRP | S_IWOTH
        bool sticky = (mode & 0x200) != 0;
        if (otherWritable && !(sticky && uid == 0)) return $"{path} is writable by group or others and not a root-owned sticky directory";
        return null;
    }
}
