using System.Globalization;
using System.Text;
using Whyfail.Capture.Native;

namespace Whyfail.Analysis.Explain;

/// <summary>One line of /proc/PID/mountinfo.</summary>
/// <param name="MountPoint">Relative to the process's root, octal escapes decoded.</param>
/// <param name="Options">Per-mount options (rw/ro, nosuid, nodev, noexec, relatime, …).</param>
/// <param name="SuperOptions">Super block options (rw/ro, size=…, errors=…).</param>
public sealed record MountEntry(long Id, long ParentId, uint Major, uint Minor, string Root, string MountPoint,
    IReadOnlyList<string> Options, string FsType, string Source, IReadOnlyList<string> SuperOptions)
{
    public bool MountReadOnly => Options.Contains("ro");
    public bool SuperReadOnly => SuperOptions.Contains("ro");
    public bool ReadOnly => MountReadOnly || SuperReadOnly;
    public bool NoExec => Options.Contains("noexec");
    public bool NoSuid => Options.Contains("nosuid");
    public bool NoDev => Options.Contains("nodev");
    public string Describe() => $"\"{MountPoint}\" ({FsType} from {Source}, {string.Join(',', Options)})";

    internal static List<MountEntry> ParseAll(string text)
    {
        var r = new List<MountEntry>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0) continue;
            var f = line.Split(' ');
            int dash = Array.IndexOf(f, "-");
            if (dash < 6 || dash + 1 >= f.Length) continue;
            var mm = f[2].Split(':');
            if (mm.Length != 2) continue;
            r.Add(new MountEntry(long.Parse(f[0], CultureInfo.InvariantCulture), long.Parse(f[1], CultureInfo.InvariantCulture),
                uint.Parse(mm[0], CultureInfo.InvariantCulture), uint.Parse(mm[1], CultureInfo.InvariantCulture),
                Unescape(f[3]), Unescape(f[4]), f[5].Split(','), Unescape(f[dash + 1]),
                dash + 2 < f.Length ? Unescape(f[dash + 2]) : "", dash + 3 < f.Length ? f[dash + 3].Split(',') : []));
        }
        return r;
    }

    /// <summary>Decodes the \ooo escapes the kernel writes for space, tab, newline and backslash.</summary>
    internal static string Unescape(string s)
    {
        if (!s.Contains('\\')) return s;
        var bytes = new List<byte>(s.Length);
        var raw = Encoding.UTF8.GetBytes(s);
        for (int i = 0; i < raw.Length; i++)
        {
            if (raw[i] == '\\' && IsOct(raw, i + 1))
            {
                bytes.Add((byte)((raw[i + 1] - '0') * 64 + (raw[i + 2] - '0') * 8 + (raw[i + 3] - '0')));
                i += 3;
            }
            else bytes.Add(raw[i]);
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    private static bool IsOct(byte[] b, int i) => i + 2 < b.Length && b[i] is >= (byte)'0' and <= (byte)'7' && b[i + 1] is >= (byte)'0' and <= (byte)'7' && b[i + 2] is >= (byte)'0' and <= (byte)'7';
}

/// <summary>One resource limit of /proc/PID/limits; null means unlimited.</summary>
public sealed record ResourceLimit(string Name, ulong? Soft, ulong? Hard, string Units)
{
    public static string Show(ulong? v) => v is { } x ? x.ToString(CultureInfo.InvariantCulture) : "unlimited";

    internal static Dictionary<string, ResourceLimit> ParseAll(string text)
    {
        var r = new Dictionary<string, ResourceLimit>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            // "%-25s %-20s %-20s %-10s"
            if (line.Length < 48 || line.StartsWith("Limit ", StringComparison.Ordinal)) continue;
            var name = line[..25].Trim();
            var rest = line[25..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (rest.Length < 2) continue;
            r[name] = new ResourceLimit(name, Val(rest[0]), Val(rest[1]), rest.Length > 2 ? rest[2] : "");
        }
        return r;
    }

    private static ulong? Val(string s) => s == "unlimited" ? null : ulong.TryParse(s, CultureInfo.InvariantCulture, out var v) ? v : null;
}

/// <summary>An open file descriptor of the process: where /proc/PID/fd/N points and its fdinfo.</summary>
/// <param name="Flags">The open flags from fdinfo (O_ACCMODE, O_APPEND, O_PATH, O_CLOEXEC, …).</param>
public sealed record FdInfo(int Fd, string Target, int Flags, long Pos, long MountId, IReadOnlyDictionary<string, string> Fields, IReadOnlyList<string> Lines)
{
    public const int O_ACCMODE = Libc.O_ACCMODE, O_WRONLY = Libc.O_WRONLY, O_RDWR = Libc.O_RDWR, O_PATH = Libc.O_PATH;
    public bool IsPath => (Flags & O_PATH) != 0;
    public bool CanRead => !IsPath && (Flags & O_ACCMODE) != O_WRONLY;
    public bool CanWrite => !IsPath && (Flags & O_ACCMODE) is O_WRONLY or O_RDWR;

    public string AccessWords => IsPath ? "O_PATH (no reading or writing)" : (Flags & O_ACCMODE) switch
    {
        0 => "read-only (O_RDONLY)", O_WRONLY => "write-only (O_WRONLY)", O_RDWR => "read-write (O_RDWR)", _ => "with access mode 3",
    };

    internal static FdInfo Parse(int fd, string target, string? fdinfo)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        var lines = new List<string>();
        if (fdinfo != null)
            foreach (var line in fdinfo.Split('\n'))
            {
                if (line.Length == 0) continue;
                lines.Add(line);
                int c = line.IndexOf(':');
                if (c > 0) fields.TryAdd(line[..c], line[(c + 1)..].Trim());
            }
        int flags = fields.TryGetValue("flags", out var fl) ? Convert.ToInt32(fl, 8) : 0;
        long pos = fields.TryGetValue("pos", out var p) && long.TryParse(p, out var pv) ? pv : 0;
        long mnt = fields.TryGetValue("mnt_id", out var m) && long.TryParse(m, out var mv) ? mv : 0;
        return new FdInfo(fd, target, flags, pos, mnt, fields, lines);
    }
}

/// <summary>Small helpers to read /proc and /sys without throwing.</summary>
internal static class ProcFs
{
    public static string? Read(string path)
    {
        try { return File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    public static long? ReadLong(string path)
    {
        var s = Read(path)?.Trim();
        return s != null && long.TryParse(s, CultureInfo.InvariantCulture, out var v) ? v : null;
    }

    /// <summary>All numeric entries of /proc (process ids).</summary>
    public static IEnumerable<int> Pids()
    {
        IEnumerable<string> dirs;
        try { dirs = Directory.EnumerateDirectories("/proc").ToList(); }
        catch (IOException) { yield break; }
        foreach (var d in dirs)
            if (int.TryParse(Path.GetFileName(d), out var pid)) yield return pid;
    }

    /// <summary>(fd, link target) of every descriptor of a process; empty when it is gone.</summary>
    public static IEnumerable<(int Fd, string Target)> FdLinks(int pid, string? dir = null)
    {
        dir ??= $"/proc/{pid}/fd";
        List<string> entries;
        try { entries = Directory.EnumerateFileSystemEntries(dir).ToList(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { yield break; }
        foreach (var e in entries)
        {
            if (!int.TryParse(Path.GetFileName(e), out var fd)) continue;
            var t = Native.ReadLink(e);
            if (t != null) yield return (fd, t);
        }
    }

    /// <summary>The command name of a process (comm), or null.</summary>
    public static string? Comm(int pid) => Read($"/proc/{pid}/comm")?.TrimEnd('\n');

    public static string Who(int pid) => Comm(pid) is { } c ? $"pid {pid} ({c})" : $"pid {pid}";

    /// <summary>The uids of a process from its status (real, effective, saved, fs), or null.</summary>
    public static uint[]? Uids(int pid) => Ids(pid, "Uid:");

    /// <summary>The gids of a process from its status (real, effective, saved, fs), or null.</summary>
    public static uint[]? Gids(int pid) => Ids(pid, "Gid:");

    private static uint[]? Ids(int pid, string key)
    {
        var s = Read($"/proc/{pid}/status");
        if (s == null) return null;
        foreach (var line in s.Split('\n'))
            if (line.StartsWith(key, StringComparison.Ordinal))
                return line[key.Length..].Split(['\t', ' '], StringSplitOptions.RemoveEmptyEntries).Select(x => uint.Parse(x, CultureInfo.InvariantCulture)).ToArray();
        return null;
    }

    /// <summary>
    /// The fields of /proc/PID/stat after the command name (which may hold spaces and parentheses): [0] state,
    /// [1] ppid, [2] pgrp, [3] session, [4] tty_nr, … [19] starttime; null when the process is gone.
    /// </summary>
    public static string[]? StatFields(int pid)
    {
        var s = Read($"/proc/{pid}/stat");
        int close = s?.LastIndexOf(')') ?? -1;
        return close < 0 || close + 2 > s!.Length ? null : s[(close + 2)..].Split(' ');
    }
}
