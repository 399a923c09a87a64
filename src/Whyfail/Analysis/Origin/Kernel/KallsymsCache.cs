using System.Text;
using System.Security.Cryptography;

#pragma warning disable CA1416 // Linux only

namespace Whyfail.Analysis.Origin.Kernel;

/// <summary>
/// This boot's copy of /proc/kallsyms, in a root-only directory under /run: the kernel makes the file's 7 MB of text anew
/// on every read (seconds of the lab's emulated CPU, the long pole of deep mode's end: bench/README "The origin resolver
/// off the loop, session 16"); a copy in tmpfs is read in a few ms. Kept only while the loaded modules are the same (their
/// names, sizes and addresses, from /proc/modules, are the copy's key; the kernel image's symbols cannot change while it
/// runs). Symbols that come and go with BPF programs and ftrace trampolines are not kept by name (their addresses still
/// bound the symbol before them): a run sees its own programs as unnamed frames, as it did when kallsyms was read before
/// they were loaded. WHYFAIL_KALLSYMS_CACHE=0 turns the copy off (a measuring aid: every run as the first of a boot).
/// </summary>
public static class KallsymsCache
{
    public const string Directory = "/run/whyfail/kallsyms";
    private const string Magic = "# whyfail kallsyms v1 ";

    private static bool Enabled => Environment.GetEnvironmentVariable("WHYFAIL_KALLSYMS_CACHE") != "0";

    /// <summary>
    /// The text of /proc/kallsyms (a buffer, the offset and length of the text in it), from this boot's copy when it is
    /// there and its modules are still the ones loaded; <c>Cached</c> says which. Throws as <see cref="Kallsyms.ReadText"/>.
    /// </summary>
    public static (byte[] Data, int Offset, int Length, bool Cached) Read()
    {
        if (CopyPath() is { } path && ModulesKey() is { } key && ReadCopy(path, key) is { } copy) return (copy.Data, copy.Offset, copy.Length, true);
        var (data, length) = Kallsyms.ReadText();
        return (data, 0, length, false);
    }

    /// <summary>Keeps <paramref name="text"/> (read from /proc/kallsyms, not a copy) for the next runs of this boot; nothing when it cannot.</summary>
    public static void Write(ReadOnlySpan<byte> text)
    {
        if (CopyPath() is not { } path || ModulesKey() is not { } key || text.IsEmpty) return;
        try
        {
            var copy = new byte[text.Length];
            text.CopyTo(copy);
            ForgetDynamic(copy);
            string tmp = $"{path}.{Environment.ProcessId}";
            var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite };
            using (var f = new FileStream(tmp, options))
            {
                f.Write(Encoding.ASCII.GetBytes(Magic + key + "\n"));
                f.Write(copy);
            }
            File.Move(tmp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>
    /// Lines of BPF programs and ftrace trampolines ("ADDRESS t NAME\t[bpf]", "[__builtin__ftrace]") made data lines ('d'):
    /// no name for them (they change with every program loaded), but their addresses still end the symbol before them.
    /// </summary>
    internal static void ForgetDynamic(Span<byte> text)
    {
        foreach (var module in (ReadOnlySpan<string>)["\t[bpf]", "\t[__builtin__ftrace]"])
        {
            var mark = Encoding.ASCII.GetBytes(module);
            int from = 0;
            while (from < text.Length)
            {
                int at = text[from..].IndexOf(mark);
                if (at < 0) break;
                at += from;
                from = at + mark.Length;
                if (from < text.Length && text[from] != (byte)'\n') continue;
                int start = text[..at].LastIndexOf((byte)'\n') + 1;
                int sp = text[start..at].IndexOf((byte)' ');
                if (sp > 0 && start + sp + 1 < at) text[start + sp + 1] = (byte)'d';
            }
        }
    }

    private static (byte[] Data, int Offset, int Length)? ReadCopy(string path, string key)
    {
        try
        {
            if (SafeDirectory.LStat(path) is not { } st || !SafeDirectory.IsRegular(st.Mode) || st.Uid != 0) return null;
            byte[] data = File.ReadAllBytes(path);
            int nl = data.AsSpan().IndexOf((byte)'\n');
            if (nl < 0 || !data.AsSpan(0, nl).SequenceEqual(Encoding.ASCII.GetBytes(Magic + key))) return null;
            return (data, nl + 1, data.Length - nl - 1);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>This boot's copy; null when whyfail is not root, the copy is turned off or the directory is not safe to trust.</summary>
    private static string? CopyPath()
    {
        if (!Enabled || Capture.Native.Libc.GetEuid() != 0) return null;
        try
        {
            string boot = File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();
            if (boot.Length == 0 || boot.Any(c => !(char.IsAsciiHexDigit(c) || c == '-'))) return null;
            return SafeDirectory.EnsurePrivate(Directory, 0) == null ? Path.Combine(Directory, boot) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The loaded modules (name, size, address of each line of /proc/modules), hashed; null when unreadable.</summary>
    internal static string? ModulesKey(string path = "/proc/modules")
    {
        try
        {
            return ModulesKeyOf(File.ReadAllText(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The key of a /proc/modules text: its lines' name, size and address (not the use counts, which change).</summary>
    internal static string ModulesKeyOf(string modules)
    {
        var sb = new StringBuilder();
        foreach (var line in modules.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 6) continue;
            sb.Append(f[0]).Append(' ').Append(f[1]).Append(' ').Append(f[5]).Append('\n');
        }
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())));
    }
}
