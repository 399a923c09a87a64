using System.Text;

namespace Whyfail.Analysis.Origin.Kernel;

/// <summary>
/// Identifies the running kernel build: the GNU build id from /sys/kernel/notes (an ELF note blob,
/// NT_GNU_BUILD_ID) or, when that is unreadable, "release-" + the first 16 hex digits of SHA-256 of
/// /proc/version (which carries the build number and date).
/// </summary>
public static class KernelBuildId
{
    public const string NotesPath = "/sys/kernel/notes";

    /// <summary>The build id of the running kernel; never null (falls back as described).</summary>
    public static string Current(string notesPath = NotesPath, string versionPath = "/proc/version")
    {
        string? id = FromNotes(notesPath);
        if (id != null) return id;
        string version;
        try
        {
            version = File.ReadAllText(versionPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            version = "";
        }
        string hash = Convert.ToHexStringLower(Sha256.Hash(Encoding.UTF8.GetBytes(version)))[..16];
        return $"{Sanitize(Release())}-{hash}";
    }

    /// <summary>The NT_GNU_BUILD_ID of a notes file such as /sys/kernel/notes, or null.</summary>
    public static string? FromNotes(string notesPath = NotesPath)
    {
        try
        {
            return ElfNotes.FindGnuBuildId(File.ReadAllBytes(notesPath));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The running kernel's release (uname -r).</summary>
    public static string Release()
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Environment.OSVersion.Version.ToString();
        }
    }

    private static string Sanitize(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (char c in s) sb.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or '+' ? c : '_');
        return sb.ToString();
    }
}
