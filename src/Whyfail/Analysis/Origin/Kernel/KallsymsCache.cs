using System.Globalization;
using System.Text;
using Whyfail.Capture;

namespace Whyfail.Analysis.Origin.Kernel;

/// <summary>
/// The origin resolver's text symbols, kept per boot (issue 16: launch -> first traced call). Reading /proc/kallsyms makes
/// the kernel expand and print ~100 000 symbols (half a second of the lab's emulated CPU, on the same CPU that loads the
/// programs before the command starts); this boot's copy of the text symbols, with their sizes, is one file read.
/// <list type="bullet">
/// <item>Kept in this boot's root-only directory beside the BTF ids (<see cref="BtfIdCache.FileName"/>), written to a
/// fresh file and renamed into place, read only when it is a regular file owned by root; whyfail not root: no cache.</item>
/// <item>Keyed on /proc/modules (names, sizes, load addresses): loading or unloading a module makes another file.</item>
/// <item>Symbols that change within a boot without a module load are not kept: BPF programs and trampolines
/// (<c>[bpf]</c>), ftrace and kprobe trampolines. A stack address in one of them finds no name, as a trampoline made after
/// kallsyms was read always did (<see cref="Resolve.StackChain"/> treats an unnamed frame as the probe's machinery).</item>
/// <item>A file that does not parse to its end, or whose count or key differs, is not used (and is made again).</item>
/// </list>
/// </summary>
public static class KallsymsCache
{
    private const string Format = "whyfail kallsyms 1";
    private static readonly string[] Dynamic = ["bpf", "__builtin__ftrace", "__builtin__kprobes"];

    /// <summary>The text symbols: from this boot's file when it is there and matches, else /proc/kallsyms (and the file is made).</summary>
    public static Kallsyms Load()
    {
        if (BtfIdCache.FileName() is not { } boot) return Kallsyms.Load();
        string file = boot + ".kallsyms";
        string key = ModulesKey();
        if (Read(file, key) is { } cached) return cached;
        var fresh = Kallsyms.Load();
        if (fresh.AddressesVisible) Write(file, key, fresh);
        return fresh;
    }

    /// <summary>FNV-1a of /proc/modules: a name for the set of loaded modules and where they are (not a defence: the file is root's).</summary>
    internal static string ModulesKey()
    {
        ulong hash = 0xcbf29ce484222325;
        try
        {
            foreach (byte b in File.ReadAllBytes("/proc/modules"))
                hash = (hash ^ b) * 0x100000001b3;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "none";
        }
        return hash.ToString("x16", CultureInfo.InvariantCulture);
    }

    /// <summary>The symbols a cache keeps: every text symbol but those of <see cref="Dynamic"/> regions.</summary>
    internal static bool Kept(in KernelSymbol s) => s.Module is not { } m || Array.IndexOf(Dynamic, m) < 0;

    /// <summary>The file's table, or null when it is missing, untrusted, of another key, or does not parse to its end.</summary>
    internal static Kallsyms? Read(string file, string key)
    {
        byte[] data;
        try
        {
            if (!BtfIdCache.Trusted(file)) return null;
            data = File.ReadAllBytes(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        ReadOnlySpan<byte> text = data;
        if (!NextLine(ref text, out var format) || !format.SequenceEqual(Encoding.ASCII.GetBytes(Format))) return null;
        if (!NextLine(ref text, out var k) || !k.SequenceEqual(Encoding.ASCII.GetBytes(key))) return null;
        if (!NextLine(ref text, out var n) || !int.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out int count) || count <= 0 || count > 10_000_000)
            return null;
        var symbols = new KernelSymbol[count];
        var modules = new Dictionary<string, string>(StringComparer.Ordinal);
        var moduleLookup = modules.GetAlternateLookup<ReadOnlySpan<char>>();
        Span<char> chars = stackalloc char[64];
        ulong last = 0;
        for (int i = 0; i < count; i++)
        {
            // ADDRESS SIZE TYPE NAME [MODULE], hexadecimal numbers, sorted by address
            if (!NextLine(ref text, out var line)) return null;
            if (!Field(ref line, out var a) || !ulong.TryParse(a, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong address) || address < last) return null;
            if (!Field(ref line, out var sz) || !ulong.TryParse(sz, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong size)) return null;
            if (!Field(ref line, out var t) || t.Length != 1 || t[0] is not ((byte)'t' or (byte)'T' or (byte)'w' or (byte)'W')) return null;
            if (!Field(ref line, out var name)) return null;
            string? module = null;
            if (Field(ref line, out var mod))
            {
                if (mod.Length > chars.Length || !line.IsEmpty) return null;
                int m = Encoding.UTF8.GetChars(mod, chars);
                if (!moduleLookup.TryGetValue(chars[..m], out module)) modules[module = new string(chars[..m])] = module;
            }
            symbols[i] = new KernelSymbol(Encoding.UTF8.GetString(name), address, size, (char)t[0], module);
            last = address;
        }
        if (!text.IsEmpty) return null;
        return Kallsyms.FromSorted(symbols, visible: true, source: $"{Kallsyms.DefaultPath} (this boot's copy)");
    }

    internal static void Write(string file, string key, Kallsyms table)
    {
        try
        {
            var kept = table.Symbols.Where(s => Kept(s)).ToList();
            var sb = new StringBuilder(kept.Count * 48);
            sb.Append(Format).Append('\n').Append(key).Append('\n').Append(kept.Count.ToString(CultureInfo.InvariantCulture)).Append('\n');
            foreach (var s in kept)
            {
                sb.Append(s.Address.ToString("x", CultureInfo.InvariantCulture)).Append(' ').Append(s.Size.ToString("x", CultureInfo.InvariantCulture))
                  .Append(' ').Append(s.Type).Append(' ').Append(s.Name);
                if (s.Module != null) sb.Append(' ').Append(s.Module);
                sb.Append('\n');
            }
            string tmp = $"{file}.{Environment.ProcessId}.tmp";
            File.Delete(tmp);
            using (var f = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write))
                f.Write(Encoding.UTF8.GetBytes(sb.ToString()));
            File.Move(tmp, file, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    private static bool NextLine(ref ReadOnlySpan<byte> text, out ReadOnlySpan<byte> line)
    {
        int nl = text.IndexOf((byte)'\n');
        if (nl < 0) { line = default; return false; }
        line = text[..nl];
        text = text[(nl + 1)..];
        return true;
    }

    private static bool Field(ref ReadOnlySpan<byte> line, out ReadOnlySpan<byte> field)
    {
        int sp = line.IndexOf((byte)' ');
        field = sp < 0 ? line : line[..sp];
        line = sp < 0 ? default : line[(sp + 1)..];
        return !field.IsEmpty;
    }
}
