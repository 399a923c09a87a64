using System.Globalization;
using System.Numerics;

namespace Whyfail.Analysis.Origin.Kernel;

/// <summary>One text (function) symbol from /proc/kallsyms.</summary>
/// <param name="Size">Bytes up to the next symbol with a higher address; 0 when there is none (the last one).</param>
/// <param name="Type">The kallsyms type letter: t, T, w or W.</param>
/// <param name="Module">The module the symbol belongs to, or null for the kernel image.</param>
public readonly record struct KernelSymbol(string Name, ulong Address, ulong Size, char Type, string? Module)
{
    public ulong End => Address + Size;
    public bool Contains(ulong address) => Covers(Address, Size, address);

    /// <summary>Whether a symbol at <paramref name="start"/> of <paramref name="size"/> bytes (0: unknown, only its start) holds <paramref name="address"/>.</summary>
    internal static bool Covers(ulong start, ulong size, ulong address) => address >= start && (size == 0 ? address == start : address < start + size);
}

/// <summary>
/// The kernel's symbol table as /proc/kallsyms shows it: text symbols sorted by their LIVE address
/// (so KASLR is already applied), looked up by address (binary search) or by name.
/// Without privileges (or with kptr_restrict) every address reads as zero: <see cref="AddressesVisible"/>
/// is then false and nothing here can be used for address work.
/// The table keeps the file's bytes and makes a symbol's name only when it is asked for (an origin's stack needs a few
/// dozen of ~110 000), and its index by name at the first question by name: made at once, the 110 000 strings and their
/// dictionary were most of deep mode's resolver cost in the lab's emulated CPU (bench/README "The origin resolver off the
/// loop, session 16").
/// </summary>
public sealed class Kallsyms
{
    public const string DefaultPath = "/proc/kallsyms";

    private readonly byte[] _raw;        // the file's bytes: names are read from there
    private readonly ulong[] _starts;    // sorted by address, file order among equal addresses
    private readonly ulong[] _sizes;
    private readonly int[] _nameAt, _nameLength;
    private readonly byte[] _types;
    private readonly string?[] _modules;
    private readonly string?[] _names;   // made on first use
    private KernelSymbol[]? _all;
    private NameIndex? _byName;

    private Kallsyms(byte[] raw, ulong[] starts, ulong[] sizes, int[] nameAt, int[] nameLength, byte[] types, string?[] modules, bool visible, string source)
    {
        (_raw, _starts, _sizes, _nameAt, _nameLength, _types, _modules) = (raw, starts, sizes, nameAt, nameLength, types, modules);
        _names = new string?[starts.Length];
        AddressesVisible = visible;
        Source = source;
    }

    /// <summary>Where the table was read from (a path or a description).</summary>
    public string Source { get; }

    /// <summary>False when every address is zero (hidden by kptr_restrict or missing privileges).</summary>
    public bool AddressesVisible { get; }

    /// <summary>The text symbols, sorted by address (every name made: for whole-table work such as a call graph).</summary>
    public IReadOnlyList<KernelSymbol> Symbols
    {
        get
        {
            if (_all is { } all) return all;
            all = new KernelSymbol[_starts.Length];
            for (int i = 0; i < all.Length; i++) all[i] = Symbol(i);
            return _all = all;
        }
    }

    public int Count => _starts.Length;

    private string Name(int i) => _names[i] ??= System.Text.Encoding.UTF8.GetString(_raw, _nameAt[i], _nameLength[i]);

    private ReadOnlySpan<byte> NameBytes(int i) => _raw.AsSpan(_nameAt[i], _nameLength[i]);

    private KernelSymbol Symbol(int i) => new(Name(i), _starts[i], _sizes[i], (char)_types[i], _modules[i]);

    public static Kallsyms Load(string path = DefaultPath)
    {
        var (data, length) = ReadText(path);
        return Parse(data, 0, length, path);
    }

    /// <summary>The file's bytes (a buffer and the length used), as <see cref="Load"/> reads them; parse them with <see cref="Parse(byte[], int, int, string)"/>.</summary>
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

    public static Kallsyms Parse(string text, string source = "kallsyms")
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        return Parse(bytes, 0, bytes.Length, source);
    }

    /// <summary>Parses lines "ADDRESS TYPE NAME[\t[MODULE]]" (a copy of the bytes is kept).</summary>
    public static Kallsyms Parse(ReadOnlySpan<byte> text, string source = "kallsyms") => Parse(text.ToArray(), 0, text.Length, source);

    /// <summary>Parses lines "ADDRESS TYPE NAME[\t[MODULE]]" in <paramref name="data"/>[offset, offset + length), which the table keeps (names are read from it).</summary>
    public static Kallsyms Parse(byte[] data, int offset, int length, string source = "kallsyms")
    {
        var text = data.AsSpan(offset, length);
        int lines = text.Count((byte)'\n') + 1;
        var starts = new ulong[lines];
        var nameAt = new int[lines];
        var nameLength = new int[lines];
        var types = new byte[lines];
        var modules = new string?[lines];
        // Every symbol with a real address bounds the function before it (data symbols too, when
        // CONFIG_KALLSYMS_ALL shows them), so sizes never run into .rodata.
        var bounds = new ulong[lines];
        int count = 0, nbounds = 0;
        string? module = null;
        byte[]? moduleBytes = null; // the last module's name: a module's symbols come together
        bool anyNonZero = false;
        int pos = offset, end = offset + length;
        while (pos < end)
        {
            int nl = data.AsSpan(pos, end - pos).IndexOf((byte)'\n');
            int lineEnd = nl < 0 ? end : pos + nl;
            int lineStart = pos;
            pos = nl < 0 ? end : lineEnd + 1;
            var line = data.AsSpan(lineStart, lineEnd - lineStart);
            if (line.Length > 0 && line[^1] == (byte)'\r') line = line[..^1];

            int sp1 = line.IndexOf((byte)' ');
            if (sp1 <= 0 || sp1 + 3 > line.Length || line[sp1 + 2] != (byte)' ') continue;
            if (!ulong.TryParse(line[..sp1], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong address))
                continue;
            byte type = line[sp1 + 1];
            int restAt = sp1 + 3;
            var rest = line[restAt..];
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
            if (type is (byte)'a' or (byte)'A' or (byte)'U' or (byte)'u') continue; // absolute (per-cpu offsets), undefined
            bounds[nbounds++] = address;
            if (type is not ((byte)'t' or (byte)'T' or (byte)'w' or (byte)'W')) continue;

            string? symbolModule = null;
            if (mod.Length >= 2 && mod[0] == (byte)'[' && mod[^1] == (byte)']' && mod.Length - 2 <= 64)
            {
                var name = mod[1..^1];
                if (moduleBytes == null || !name.SequenceEqual(moduleBytes))
                {
                    module = System.Text.Encoding.UTF8.GetString(name);
                    moduleBytes = name.ToArray();
                }
                symbolModule = module;
            }
            starts[count] = address;
            nameAt[count] = lineStart + restAt;
            nameLength[count] = rest.Length;
            types[count] = type;
            modules[count] = symbolModule;
            count++;
        }
        Array.Resize(ref starts, count);
        Array.Resize(ref nameAt, count);
        Array.Resize(ref nameLength, count);
        Array.Resize(ref types, count);
        Array.Resize(ref modules, count);

        if (!IsSorted(starts))
        {
            // Stable sort by address: equal addresses keep file order (aliases such as _text/_stext).
            var keys = new (ulong Address, int Index)[count];
            for (int i = 0; i < count; i++) keys[i] = (starts[i], i);
            Array.Sort(keys);
            starts = Permute(starts, keys);
            nameAt = Permute(nameAt, keys);
            nameLength = Permute(nameLength, keys);
            types = Permute(types, keys);
            modules = Permute(modules, keys);
        }
        var boundArray = bounds.AsSpan(0, nbounds);
        if (!IsSorted(boundArray)) boundArray.Sort();

        var sizes = new ulong[count];
        if (anyNonZero)
        {
            for (int i = 0; i < count; i++)
            {
                ulong next = NextAbove(boundArray, starts[i]);
                if (next != 0) sizes[i] = next - starts[i];
            }
        }
        return new Kallsyms(data, starts, sizes, nameAt, nameLength, types, modules, anyNonZero, source);
    }

    private static T[] Permute<T>(T[] values, (ulong Address, int Index)[] order)
    {
        var result = new T[values.Length];
        for (int i = 0; i < order.Length; i++) result[i] = values[order[i].Index];
        return result;
    }

    private static bool IsSorted(ReadOnlySpan<ulong> values)
    {
        for (int i = 1; i < values.Length; i++)
            if (values[i] < values[i - 1]) return false;
        return true;
    }

    private static ulong NextAbove(ReadOnlySpan<ulong> sortedBounds, ulong address)
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
        if (i >= 0 && Covers(i, address))
        {
            symbol = Symbol(i);
            return true;
        }
        symbol = default;
        return false;
    }

    private bool Covers(int i, ulong address) => KernelSymbol.Covers(_starts[i], _sizes[i], address);

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
        ulong start = _starts[i];
        for (; i >= 0 && _starts[i] == start; i--)
            if (Name(i).StartsWith(IndirectThunkPrefix, StringComparison.Ordinal) && Covers(i, address))
                return true;
        return false;
    }

    /// <summary>The name prefix of every x86 indirect-branch thunk (return thunks are <c>__x86_return_*</c>).</summary>
    public const string IndirectThunkPrefix = "__x86_indirect_";

    /// <summary>The text symbol that starts exactly at <paramref name="address"/> (the first listed, when aliases share it).</summary>
    public bool TryFindStart(ulong address, out KernelSymbol symbol)
    {
        int i = IndexAtOrBelow(address);
        if (i >= 0 && _starts[i] == address)
        {
            while (i > 0 && _starts[i - 1] == address) i--;
            symbol = Symbol(i);
            return true;
        }
        symbol = default;
        return false;
    }

    /// <summary>The symbol that follows <paramref name="symbol"/> at a higher address, if any.</summary>
    public bool TryFindNext(KernelSymbol symbol, out KernelSymbol next)
    {
        int i = IndexAtOrBelow(symbol.Address);
        while (i >= 0 && i + 1 < _starts.Length)
        {
            i++;
            if (_starts[i] > symbol.Address) { next = Symbol(i); return true; }
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
        var (first, _) = Named(name);
        symbol = first >= 0 ? Symbol(first) : default;
        return first >= 0;
    }

    /// <summary>The live address of the first text symbol called <paramref name="name"/>.</summary>
    public bool TryGetAddress(string name, out ulong address)
    {
        bool found = TryGetSymbol(name, out var s);
        address = s.Address;
        return found;
    }

    public bool Contains(string name) => Named(name).First >= 0;

    /// <summary>How many text symbols carry this name (static functions in different files may share one).</summary>
    public int CountNamed(string name) => Named(name).Count;

    /// <summary>Makes the index by name now (on the caller's thread) rather than at the first question by name.</summary>
    public void IndexNames() => _ = Index();

    /// <summary>The first (lowest-address) symbol of that name and how many there are; (-1, 0) when none.</summary>
    private (int First, int Count) Named(string name)
    {
        var index = Index();
        Span<byte> buffer = stackalloc byte[256];
        int max = System.Text.Encoding.UTF8.GetMaxByteCount(name.Length);
        var bytes = max <= buffer.Length ? buffer[..System.Text.Encoding.UTF8.GetBytes(name, buffer)] : System.Text.Encoding.UTF8.GetBytes(name);
        int first = -1, count = 0;
        for (int i = index.Buckets[NameIndex.Hash(bytes) & (index.Buckets.Length - 1)]; i >= 0; i = index.Next[i])
            if (NameBytes(i).SequenceEqual(bytes))
            {
                if (first < 0) first = i;
                count++;
            }
        return (first, count);
    }

    private NameIndex Index()
    {
        if (Volatile.Read(ref _byName) is { } made) return made;
        var index = new NameIndex(_starts.Length);
        // From the last symbol to the first, each put at its chain's head: a chain lists a name's symbols by address.
        for (int i = _starts.Length - 1; i >= 0; i--)
        {
            ref int head = ref index.Buckets[NameIndex.Hash(NameBytes(i)) & (index.Buckets.Length - 1)];
            index.Next[i] = head;
            head = i;
        }
        return Interlocked.CompareExchange(ref _byName, index, null) ?? index;
    }

    /// <summary>Symbols by name without a string per name: chains of symbol indexes in buckets of the names' bytes' hash.</summary>
    private sealed class NameIndex
    {
        public readonly int[] Buckets;
        public readonly int[] Next;

        public NameIndex(int count)
        {
            Buckets = new int[Math.Max(16, (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(1, count) * 2))];
            Array.Fill(Buckets, -1);
            Next = new int[count];
        }

        /// <summary>FNV-1a over the name's bytes.</summary>
        public static int Hash(ReadOnlySpan<byte> name)
        {
            uint h = 2166136261;
            foreach (byte b in name) h = (h ^ b) * 16777619;
            return (int)(h & 0x7fffffff);
        }
    }
}
