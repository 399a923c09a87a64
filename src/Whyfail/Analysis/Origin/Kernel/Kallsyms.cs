using System.Globalization;

namespace Whyfail.Analysis.Origin.Kernel;

/// <summary>One text (function) symbol from /proc/kallsyms.</summary>
/// <param name="Size">Bytes up to the next symbol with a higher address; 0 when there is none (the last one).</param>
/// <param name="Type">The kallsyms type letter: t, T, w or W.</param>
/// <param name="Module">The module the symbol belongs to, or null for the kernel image.</param>
public readonly record struct KernelSymbol(string Name, ulong Address, ulong Size, char Type, string? Module)
{
    public ulong End => Address + Size;
    public bool Contains(ulong address) => address >= Address && (Size == 0 ? address == Address : address < End);
}

/// <summary>
/// The kernel's symbol table as /proc/kallsyms shows it: text symbols sorted by their LIVE address
/// (so KASLR is already applied), looked up by address (binary search) or by name.
/// Without privileges (or with kptr_restrict) every address reads as zero: <see cref="AddressesVisible"/>
/// is then false and nothing here can be used for address work.
/// </summary>
public sealed class Kallsyms
{
    public const string DefaultPath = "/proc/kallsyms";

    private readonly KernelSymbol[] _text;            // sorted by address, file order among equal addresses
    private readonly ulong[] _starts;                 // _text[i].Address, for binary search
    private readonly Dictionary<string, (int First, int Count)> _byName; // first (lowest-address) symbol of each name

    private Kallsyms(KernelSymbol[] text, bool visible, string source)
    {
        _text = text;
        AddressesVisible = visible;
        Source = source;
        _starts = new ulong[text.Length];
        _byName = new Dictionary<string, (int, int)>(text.Length, StringComparer.Ordinal);
        for (int i = 0; i < text.Length; i++)
        {
            _starts[i] = text[i].Address;
            ref var entry = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_byName, text[i].Name, out bool exists);
            entry = exists ? (entry.First, entry.Count + 1) : (i, 1);
        }
    }

    /// <summary>Where the table was read from (a path or a description).</summary>
    public string Source { get; }

    /// <summary>False when every address is zero (hidden by kptr_restrict or missing privileges).</summary>
    public bool AddressesVisible { get; }

    /// <summary>The text symbols, sorted by address.</summary>
    public IReadOnlyList<KernelSymbol> Symbols => _text;

    public int Count => _text.Length;

    public static Kallsyms Load(string path = DefaultPath)
    {
        var (data, length) = ReadText(path);
        return Parse(data.AsSpan(0, length), path);
    }

    /// <summary>The file's bytes (a buffer and the length used), as <see cref="Load"/> reads them; parse them with <see cref="Parse(ReadOnlySpan{byte}, string)"/>.</summary>
    public static (byte[] Data, int Length) ReadText(string path = DefaultPath)
    {
        byte[] data;
        int length = 0;
        try
        {
            // One pass with large reads: /proc/kallsyms is a seq_file (length 0), and small reads make it slow. Read into one
            // buffer that grows by doubling and is parsed in place (no copies: each is megabytes for the collector).
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
            data = GC.AllocateUninitializedArray<byte>(8 << 20);
            while (true)
            {
                if (length == data.Length) Array.Resize(ref data, data.Length * 2);
                int n = stream.Read(data, length, Math.Min(data.Length - length, 1 << 20));
                if (n <= 0) break;
                length += n;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KernelAnalysisException($"cannot read {path}: {e.Message}", e);
        }
        return (data, length);
    }

    public static Kallsyms Parse(string text, string source = "kallsyms") => Parse(System.Text.Encoding.UTF8.GetBytes(text), source);

    /// <summary>Parses lines "ADDRESS TYPE NAME[\t[MODULE]]".</summary>
    public static Kallsyms Parse(ReadOnlySpan<byte> text, string source = "kallsyms")
    {
        var symbols = new List<KernelSymbol>(1 << 17);
        // Every symbol with a real address bounds the function before it (data symbols too, when
        // CONFIG_KALLSYMS_ALL shows them), so sizes never run into .rodata.
        var bounds = new List<ulong>(1 << 17);
        var modules = new Dictionary<string, string>(StringComparer.Ordinal);
        var moduleLookup = modules.GetAlternateLookup<ReadOnlySpan<char>>();
        Span<char> moduleChars = stackalloc char[64];
        bool anyNonZero = false;
        while (!text.IsEmpty)
        {
            int nl = text.IndexOf((byte)'\n');
            var line = nl < 0 ? text : text[..nl];
            text = nl < 0 ? default : text[(nl + 1)..];
            if (line.Length > 0 && line[^1] == (byte)'\r') line = line[..^1];

            int sp1 = line.IndexOf((byte)' ');
            if (sp1 <= 0 || sp1 + 3 > line.Length || line[sp1 + 2] != (byte)' ') continue;
            if (!ulong.TryParse(line[..sp1], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong address))
                continue;
            char type = (char)line[sp1 + 1];
            var rest = line[(sp1 + 3)..];
            ReadOnlySpan<byte> mod = default;
            int tab = rest.IndexOf((byte)'\t');
            if (tab >= 0)
            {
                mod = rest[(tab + 1)..].Trim((byte)' ');
                rest = rest[..tab];
            }
            rest = rest.TrimEnd((byte)' ');
            if (rest.IsEmpty) continue;
            if (address != 0) anyNonZero = true;
            if (type is 'a' or 'A' or 'U' or 'u') continue; // absolute (per-cpu offsets), undefined
            bounds.Add(address);
            if (type is not ('t' or 'T' or 'w' or 'W')) continue;

            string? module = null;
            if (mod.Length >= 2 && mod[0] == (byte)'[' && mod[^1] == (byte)']' && mod.Length - 2 <= moduleChars.Length)
            {
                int n = System.Text.Encoding.UTF8.GetChars(mod[1..^1], moduleChars);
                if (!moduleLookup.TryGetValue(moduleChars[..n], out module))
                {
                    module = new string(moduleChars[..n]);
                    modules[module] = module;
                }
            }
            symbols.Add(new KernelSymbol(System.Text.Encoding.UTF8.GetString(rest), address, 0, type, module));
        }

        var sorted = symbols.ToArray();
        if (!IsSorted(sorted))
        {
            // Stable sort by address: equal addresses keep file order (aliases such as _text/_stext).
            var keys = new (ulong Address, int Index)[sorted.Length];
            for (int i = 0; i < keys.Length; i++) keys[i] = (sorted[i].Address, i);
            Array.Sort(keys, sorted);
        }
        var boundArray = bounds.ToArray();
        if (!IsSorted(boundArray)) Array.Sort(boundArray);

        if (anyNonZero)
        {
            for (int i = 0; i < sorted.Length; i++)
            {
                ulong next = NextAbove(boundArray, sorted[i].Address);
                if (next != 0) sorted[i] = sorted[i] with { Size = next - sorted[i].Address };
            }
        }
        return new Kallsyms(sorted, anyNonZero, source);
    }

    private static bool IsSorted(KernelSymbol[] symbols)
    {
        for (int i = 1; i < symbols.Length; i++)
            if (symbols[i].Address < symbols[i - 1].Address) return false;
        return true;
    }

    private static bool IsSorted(ulong[] values)
    {
        for (int i = 1; i < values.Length; i++)
            if (values[i] < values[i - 1]) return false;
        return true;
    }

    private static ulong NextAbove(ulong[] sortedBounds, ulong address)
    {
        int lo = 0, hi = sortedBounds.Length; // first index with value > address
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (sortedBounds[mid] <= address) lo = mid + 1; else hi = mid;
        }
        return lo < sortedBounds.Length ? sortedBounds[lo] : 0;
    }

    /// <summary>Throws a clear error when the addresses are hidden.</summary>
    public void RequireAddresses()
    {
        if (!AddressesVisible)
            throw new KernelAnalysisException(
                $"{Source} shows every address as 0 (kptr_restrict, or not running as root with CAP_SYSLOG): kernel symbols cannot be located");
    }

    /// <summary>The text symbol whose range contains <paramref name="address"/> (the last one starting at or below it).</summary>
    public bool TryFind(ulong address, out KernelSymbol symbol)
    {
        int i = IndexAtOrBelow(address);
        if (i >= 0 && _text[i].Contains(address))
        {
            symbol = _text[i];
            return true;
        }
        symbol = default;
        return false;
    }

    /// <summary>
    /// Whether <paramref name="address"/> lies in an x86 indirect-branch thunk: a retpoline (<c>__x86_indirect_thunk_rax</c>),
    /// an ITS thunk (<c>__x86_indirect_its_thunk_*</c>) or a call-depth thunk (<c>__x86_indirect_call_thunk_*</c>,
    /// <c>__x86_indirect_jump_thunk_*</c>). Every symbol covering it counts, not only the one <see cref="TryFind"/> picks:
    /// the first thunk shares its address with section markers (<c>__softirqentry_text_end</c> on Debian's 6.12,
    /// <c>__indirect_thunk_start</c> and <c>__static_call_text_end</c> on 6.1).
    /// </summary>
    public bool IsIndirectThunk(ulong address)
    {
        int i = IndexAtOrBelow(address);
        if (i < 0) return false;
        ulong start = _text[i].Address;
        for (; i >= 0 && _text[i].Address == start; i--)
            if (_text[i].Name.StartsWith(IndirectThunkPrefix, StringComparison.Ordinal) && _text[i].Contains(address))
                return true;
        return false;
    }

    /// <summary>The name prefix of every x86 indirect-branch thunk (return thunks are <c>__x86_return_*</c>).</summary>
    public const string IndirectThunkPrefix = "__x86_indirect_";

    /// <summary>The text symbol that starts exactly at <paramref name="address"/> (the first listed, when aliases share it).</summary>
    public bool TryFindStart(ulong address, out KernelSymbol symbol)
    {
        int i = IndexAtOrBelow(address);
        if (i >= 0 && _text[i].Address == address)
        {
            while (i > 0 && _text[i - 1].Address == address) i--;
            symbol = _text[i];
            return true;
        }
        symbol = default;
        return false;
    }

    /// <summary>The symbol that follows <paramref name="symbol"/> at a higher address, if any.</summary>
    public bool TryFindNext(KernelSymbol symbol, out KernelSymbol next)
    {
        int i = IndexAtOrBelow(symbol.Address);
        while (i >= 0 && i + 1 < _text.Length)
        {
            i++;
            if (_text[i].Address > symbol.Address) { next = _text[i]; return true; }
        }
        next = default;
        return false;
    }

    private int IndexAtOrBelow(ulong address)
    {
        int lo = 0, hi = _starts.Length; // first index with start > address
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_starts[mid] <= address) lo = mid + 1; else hi = mid;
        }
        return lo - 1;
    }

    public bool TryGetSymbol(string name, out KernelSymbol symbol)
    {
        if (_byName.TryGetValue(name, out var e)) { symbol = _text[e.First]; return true; }
        symbol = default;
        return false;
    }

    /// <summary>The live address of the first text symbol called <paramref name="name"/>.</summary>
    public bool TryGetAddress(string name, out ulong address)
    {
        bool found = TryGetSymbol(name, out var s);
        address = s.Address;
        return found;
    }

    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>How many text symbols carry this name (static functions in different files may share one).</summary>
    public int CountNamed(string name) => _byName.TryGetValue(name, out var e) ? e.Count : 0;
}
