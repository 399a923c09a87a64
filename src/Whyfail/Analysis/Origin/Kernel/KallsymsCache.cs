using System.Text;
using Whyfail.Capture.Native;

#pragma warning disable CA1416 // Linux only

namespace Whyfail.Analysis.Origin.Kernel;

/// <summary>
/// This boot's symbol table, in a root-only directory under /run: the kernel makes /proc/kallsyms' 7 MB of text anew on
/// every read, and parsing it and indexing its names took seconds of the lab's emulated CPU (bench/README "The origin
/// resolver off the loop, session 16"); the table's image (<see cref="Kallsyms.ToImage"/>: its arrays, name index and
/// names) is mapped from tmpfs instead, with nothing to parse (bench/README "The resolver's reads and the GC, session
/// 17"). Kept only while the loaded modules are the same (their names, sizes and addresses, from /proc/modules, are the
/// image's key; the kernel image's symbols cannot change while it runs). Symbols that come and go with BPF programs and
/// ftrace trampolines are not kept (their addresses still end the symbol before them): a run sees its own programs as
/// unnamed frames, as it did when kallsyms was read before they were loaded. WHYFAIL_KALLSYMS_CACHE=0 turns the image off
/// (a measuring aid: every run as the first of a boot).
/// </summary>
public static class KallsymsCache
{
    public const string Directory = "/run/whyfail/kallsyms";

    /// <summary>Modules whose symbols are not kept (BPF programs and trampolines, ftrace's trampolines).</summary>
    internal static readonly string[] Dynamic = ["bpf", "__builtin__ftrace"];

    private static bool Enabled => Environment.GetEnvironmentVariable("WHYFAIL_KALLSYMS_CACHE") != "0";

    /// <summary>Where this boot's image is and the key it must carry (the loaded modules now).</summary>
    public sealed record Slot(string Path, string Key);

    /// <summary>
    /// The symbol table: this boot's image when it is there and its modules are still the ones loaded, else /proc/kallsyms
    /// parsed; <c>WriteTo</c> is where to keep the table for the next runs (<see cref="Write"/>), null when it was the image
    /// or cannot be kept. Throws as <see cref="Kallsyms.Load"/>.
    /// </summary>
    public static (Kallsyms Table, Slot? WriteTo) Read()
    {
        var slot = Here();
        if (slot != null && Map(slot.Path, slot.Key, 0) is { } mapped) return (mapped, null);
        var table = Kallsyms.Load();
        return (table, slot != null && table.AddressesVisible ? slot : null);
    }

    /// <summary>Keeps <paramref name="table"/> (read from /proc/kallsyms, not an image) for the next runs of this boot; nothing when it cannot.</summary>
    public static void Write(Slot slot, Kallsyms table) => Write(slot.Path, slot.Key, table);

    /// <summary>Writes the table's image to <paramref name="path"/> (replaced whole: written aside, then renamed), mode 0600.</summary>
    internal static unsafe void Write(string path, string key, Kallsyms table)
    {
        try
        {
            using var image = table.ToImage(key, Dynamic);
            string tmp = $"{path}.{Environment.ProcessId}";
            var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite };
            using (var f = new FileStream(tmp, options))
                for (long at = 0; at < image.Length; at += 1 << 20)
                    f.Write(new ReadOnlySpan<byte>(image.Pointer + at, (int)Math.Min(1 << 20, image.Length - at)));
            File.Move(tmp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>
    /// The table of the image at <paramref name="path"/>, mapped: only a regular file (not a symlink: opened with
    /// O_NOFOLLOW) owned by <paramref name="owner"/> and writable by no one else, made with <paramref name="key"/>; null otherwise.
    /// </summary>
    internal static unsafe Kallsyms? Map(string path, string key, uint owner)
    {
        int fd = Libc.Open(path, Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0);
        if (fd < 0) return null;
        try
        {
            Libc.Stat st;
            if (Libc.Fstat(fd, &st) != 0 || (st.Mode & Libc.S_IFMT) != Libc.S_IFREG || st.Uid != owner || (st.Mode & 0x12) != 0) return null;
            if (NativeBuffer.MapFile(fd, st.Size) is not { } image) return null;
            var table = Kallsyms.Map(image, key, Kallsyms.DefaultPath);
            if (table == null) image.Dispose();
            return table;
        }
        finally
        {
            Libc.Close(fd);
        }
    }

    /// <summary>This boot's image and its key; null when whyfail is not root, the image is turned off or the directory is not safe to trust.</summary>
    private static Slot? Here()
    {
        if (!Enabled || Libc.GetEuid() != 0) return null;
        try
        {
            string boot = File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();
            if (boot.Length == 0 || boot.Any(c => !(char.IsAsciiHexDigit(c) || c == '-'))) return null;
            // Not BOOT_ID itself: that name held the text copy of earlier versions.
            return ModulesKey() is { } key && SafeDirectory.EnsurePrivate(Directory, 0) == null ? new Slot(Path.Combine(Directory, boot + ".image"), key) : null;
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
        return Convert.ToHexStringLower(Sha256.Hash(Encoding.UTF8.GetBytes(sb.ToString())));
    }
}
