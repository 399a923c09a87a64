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
/// The table is an image outside the managed heap (<see cref="NativeBuffer"/>): arrays of the symbols' addresses, sizes,
/// types, modules and names' places, and an index by name (chains of symbol indexes in buckets of a hash of the names'
/// bytes); a symbol's name is made a string only when it is asked for (an origin's stack needs a few dozen of ~110 000).
/// Made from the file's text (<see cref="Parse(byte[], int, int, string)"/>: the names are read from the text, kept too)
/// or mapped whole from this boot's index file (<see cref="KallsymsCache"/>: the same image with the names in it). As
/// managed arrays, the 7 MB of text and the tables were large-object-heap allocations that made deep mode's start-up
/// collect generation 2 in the lab (bench/README "The resolver's reads and the GC, session 17").
/// </summary>
public sealed unsafe class Kallsyms
{
    public const string DefaultPath = "/proc/kallsyms";

    // The image: a header, then starts (ulong, sorted by address, file order among equal addresses), sizes (ulong),
    // nameAt, nameLength, module (-1: the kernel image), next (the name chains) (int each), buckets (int), the modules'
    // nameAt and nameLength (int each), types (byte), then the names' bytes (empty when they are in the text).
    private const int HeaderSize = 96, KeyAt = 32, KeyLength = 64;
    private static ReadOnlySpan<byte> Magic => "WFKSYM\0\x02"u8;

    private readonly NativeBuffer _image;
    private readonly NativeBuffer? _text;  // the file's text, when the names are read from there
    private readonly int _count, _bucketMask;
    private readonly ulong* _starts, _sizes;
    private readonly int* _nameAt, _nameLength, _module, _next, _buckets;
    private readonly byte* _types, _names;
    private readonly long _namesLength;
    private readonly string[] _modules;
    private readonly Dictionary<int, string> _made = new(); // names made so far (under its own lock)
    private KernelSymbol[]? _all;

    private Kallsyms(NativeBuffer image, NativeBuffer? text, string[] modules, bool visible, string source)
    {
        _image = image;
        _text = text;
        byte* p = image.Pointer;
        _count = ReadInt(p, 8);
        int buckets = ReadInt(p, 12), moduleCount = ReadInt(p, 16);
        _bucketMask = buckets - 1;
        long at = HeaderSize;
        _starts = (ulong*)(p + at); at += 8L * _count;
        _sizes = (ulong*)(p + at); at += 8L * _count;
        _nameAt = (int*)(p + at); at += 4L * _count;
        _nameLength = (int*)(p + at); at += 4L * _count;
        _module = (int*)(p + at); at += 4L * _count;
        _next = (int*)(p + at); at += 4L * _count;
        _buckets = (int*)(p + at); at += 4L * buckets;
        at += 8L * moduleCount;
        _types = p + at; at += _count;
        if (text != null)
        {
            _names = text.Pointer;
            _namesLength = text.Length;
        }
        else
        {
            _names = p + at;
            _namesLength = *(long*)(p + 24);
        }
        _modules = modules;
        AddressesVisible = visible;
        Source = source;
    }

    private static int ReadInt(byte* p, int at) => *(int*)(p + at);

    private static long ImageSize(int count, int buckets, int modules, long names) =>
        HeaderSize + count * (8L + 8 + 4 + 4 + 4 + 4 + 1) + 4L * buckets + 8L * modules + names;

    /// <summary>An image of <paramref name="count"/> symbols, its header written (the arrays not).</summary>
    private static NativeBuffer NewImage(int count, int modules, long names, bool visible, string key)
    {
        int buckets = Math.Max(16, (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(1, count) * 2));
        var image = NativeBuffer.Allocate(ImageSize(count, buckets, modules, names));
        byte* p = image.Pointer;
        Magic.CopyTo(new Span<byte>(p, 8));
        *(int*)(p + 8) = count;
        *(int*)(p + 12) = buckets;
        *(int*)(p + 16) = modules;
        *(int*)(p + 20) = visible ? 1 : 0;
        *(long*)(p + 24) = names;
        var k = new Span<byte>(p + KeyAt, KeyLength);
        k.Clear();
        System.Text.Encoding.ASCII.GetBytes(key.AsSpan(0, Math.Min(key.Length, KeyLength)), k);
        return image;
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
            all = new KernelSymbol[_count];
            for (int i = 0; i < all.Length; i++) all[i] = new(MakeName(i), _starts[i], _sizes[i], (char)_types[i], Module(i));
            return _all = all;
        }
    }

    public int Count => _count;

    private string Name(int i)
    {
        lock (_made)
        {
            if (!_made.TryGetValue(i, out var name)) _made[i] = name = MakeName(i);
            return name;
        }
    }

    private string MakeName(int i)
    {
        string name = System.Text.Encoding.UTF8.GetString(NameBytes(i));
        GC.KeepAlive(this); // the bytes are the image's (or the text's): kept while they are read
        return name;
    }

    /// <summary>A symbol's name's bytes (nothing when a mapped image says a place outside its names).</summary>
    private ReadOnlySpan<byte> NameBytes(int i)
    {
        long at = _nameAt[i], length = _nameLength[i];
        return at < 0 || length < 0 || at + length > _namesLength ? default : new ReadOnlySpan<byte>(_names + at, (int)length);
    }

    private string? Module(int i) => (uint)_module[i] < (uint)_modules.Length ? _modules[_module[i]] : null;

    private KernelSymbol Symbol(int i) => new(Name(i), _starts[i], _sizes[i], (char)_types[i], Module(i));

    public static Kallsyms Load(string path = DefaultPath)
    {
        var text = ReadText(path);
        return Parse(text, path);
    }

    /// <summary>The file's bytes, read whole into native memory (parse them with <see cref="Parse(NativeBuffer, string)"/>).</summary>
    internal static NativeBuffer ReadText(string path = DefaultPath)
    {
        try
        {
            // /proc/kallsyms is a seq_file (length 0), made anew at each read: read with large reads, into one buffer
            // that grows by doubling and is parsed in place.
            return NativeBuffer.ReadFile(path, 8 << 20);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KernelAnalysisException($"cannot read {path}: {e.Message}", e);
        }
    }

    public static Kallsyms Parse(string text, string source = "kallsyms") =>
        Parse(NativeBuffer.CopyOf(System.Text.Encoding.UTF8.GetBytes(text)), source);

    /// <summary>Parses lines "ADDRESS TYPE NAME[\t[MODULE]]" (a copy of the bytes is kept).</summary>
    public static Kallsyms Parse(ReadOnlySpan<byte> text, string source = "kallsyms") => Parse(NativeBuffer.CopyOf(text), source);

    /// <summary>Parses lines "ADDRESS TYPE NAME[\t[MODULE]]" of <paramref name="text"/>, which the table keeps (names are read from it).</summary>
    internal static Kallsyms Parse(NativeBuffer text, string source)
    {
        var data = new ReadOnlySpan<byte>(text.Pointer, checked((int)text.Length));
        int lines = data.Count((byte)'\n') + 1;
        // Scratch for every line: start, bound (ulong), nameAt, nameLength, module (int), type (byte).
        using var scratch = NativeBuffer.Allocate(lines * (8L + 8 + 4 + 4 + 4 + 1));
        var starts = new Span<ulong>(scratch.Pointer, lines);
        // Every symbol with a real address bounds the function before it (data symbols too, when
        // CONFIG_KALLSYMS_ALL shows them), so sizes never run into .rodata.
        var bounds = new Span<ulong>(scratch.Pointer + 8L * lines, lines);
        var nameAt = new Span<int>(scratch.Pointer + 16L * lines, lines);
        var nameLength = new Span<int>(scratch.Pointer + 20L * lines, lines);
        var modules = new Span<int>(scratch.Pointer + 24L * lines, lines);
        var types = new Span<byte>(scratch.Pointer + 28L * lines, lines);
        var moduleNames = new List<string>();
        int count = 0, nbounds = 0, module = -1;
        ReadOnlySpan<byte> moduleBytes = default; // the last module's name: a module's symbols come together
        bool anyNonZero = false;
        int pos = 0, end = data.Length;
        while (pos < end)
        {
            int nl = data[pos..].IndexOf((byte)'\n');
            int lineEnd = nl < 0 ? end : pos + nl;
            int lineStart = pos;
            pos = nl < 0 ? end : lineEnd + 1;
            var line = data[lineStart..lineEnd];
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

            int symbolModule = -1;
            if (mod.Length >= 2 && mod[0] == (byte)'[' && mod[^1] == (byte)']' && mod.Length - 2 <= 64)
            {
                var name = mod[1..^1];
                if (module < 0 || !name.SequenceEqual(moduleBytes))
                {
                    string made = System.Text.Encoding.UTF8.GetString(name);
                    module = moduleNames.IndexOf(made);
                    if (module < 0)
                    {
                        module = moduleNames.Count;
                        moduleNames.Add(made);
                    }
                    moduleBytes = name;
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

        var image = NewImage(count, 0, 0, anyNonZero, "");
        var table = new Kallsyms(image, text, moduleNames.ToArray(), anyNonZero, source);
        if (IsSorted(starts[..count]))
        {
            starts[..count].CopyTo(new Span<ulong>(table._starts, count));
            nameAt[..count].CopyTo(new Span<int>(table._nameAt, count));
            nameLength[..count].CopyTo(new Span<int>(table._nameLength, count));
            modules[..count].CopyTo(new Span<int>(table._module, count));
            types[..count].CopyTo(new Span<byte>(table._types, count));
        }
        else
        {
            // Stable sort by address: equal addresses keep file order (aliases such as _text/_stext).
            using var order = NativeBuffer.Allocate(16L * count);
            var keys = new Span<(ulong Address, int Index)>(order.Pointer, count);
            for (int i = 0; i < count; i++) keys[i] = (starts[i], i);
            keys.Sort();
            for (int i = 0; i < count; i++)
            {
                int from = keys[i].Index;
                table._starts[i] = starts[from];
                table._nameAt[i] = nameAt[from];
                table._nameLength[i] = nameLength[from];
                table._module[i] = modules[from];
                table._types[i] = types[from];
            }
        }
        var boundArray = bounds[..nbounds];
        if (!IsSorted(boundArray)) boundArray.Sort();
        for (int i = 0; i < count; i++)
        {
            ulong next = anyNonZero ? NextAbove(boundArray, table._starts[i]) : 0;
            table._sizes[i] = next != 0 ? next - table._starts[i] : 0;
        }
        table.BuildNameIndex();
        return table;
    }

    /// <summary>Fills the name index: from the last symbol to the first, each put at its chain's head, so that a chain lists a name's symbols by address.</summary>
    private void BuildNameIndex()
    {
        new Span<int>(_buckets, _bucketMask + 1).Fill(-1);
        for (int i = _count - 1; i >= 0; i--)
        {
            ref int head = ref _buckets[Hash(NameBytes(i)) & _bucketMask];
            _next[i] = head;
            head = i;
        }
    }

    /// <summary>
    /// The table as an image file's bytes (to be mapped by <see cref="Map"/>), keyed by <paramref name="key"/>, without the
    /// symbols of the modules <paramref name="drop"/> names (their addresses still end the symbol before them: the sizes
    /// are kept as they are).
    /// </summary>
    internal NativeBuffer ToImage(string key, IEnumerable<string> drop)
    {
        var keep = new bool[_modules.Length];
        for (int m = 0; m < keep.Length; m++) keep[m] = !drop.Contains(_modules[m]);
        int count = 0;
        long names = 0;
        for (int i = 0; i < _count; i++)
            if (Module(i) is null || keep[_module[i]]) { count++; names += NameBytes(i).Length; }
        foreach (var m in _modules) names += System.Text.Encoding.UTF8.GetByteCount(m);
        var image = NewImage(count, _modules.Length, names, AddressesVisible, key);
        var copy = new Kallsyms(image, null, _modules, AddressesVisible, Source);
        byte* blob = copy._names;
        long at = 0;
        int* moduleAt = (int*)(copy._types - 8L * _modules.Length), moduleLength = moduleAt + _modules.Length;
        for (int m = 0; m < _modules.Length; m++)
        {
            int n = System.Text.Encoding.UTF8.GetBytes(_modules[m], new Span<byte>(blob + at, (int)(names - at)));
            (moduleAt[m], moduleLength[m]) = ((int)at, n);
            at += n;
        }
        int j = 0;
        for (int i = 0; i < _count; i++)
        {
            if (Module(i) is not null && !keep[_module[i]]) continue;
            var name = NameBytes(i);
            name.CopyTo(new Span<byte>(blob + at, name.Length));
            copy._starts[j] = _starts[i];
            copy._sizes[j] = _sizes[i];
            copy._nameAt[j] = (int)at;
            copy._nameLength[j] = name.Length;
            copy._module[j] = _module[i];
            copy._types[j] = _types[i];
            at += name.Length;
            j++;
        }
        copy.BuildNameIndex();
        return image;
    }

    /// <summary>
    /// The table an image file holds (<see cref="ToImage"/>'s bytes, mapped), when it is one made with
    /// <paramref name="key"/>; null otherwise. A damaged image cannot make a lookup read outside it (names and chains are
    /// checked where they are read); a wrong one gives wrong answers: it is trusted as the root-only file it comes from.
    /// </summary>
    internal static Kallsyms? Map(NativeBuffer image, string key, string source)
    {
        byte* p = image.Pointer;
        if (image.Length < HeaderSize || !new ReadOnlySpan<byte>(p, 8).SequenceEqual(Magic)) return null;
        Span<byte> expected = stackalloc byte[KeyLength];
        expected.Clear();
        System.Text.Encoding.ASCII.GetBytes(key.AsSpan(0, Math.Min(key.Length, KeyLength)), expected);
        if (!new ReadOnlySpan<byte>(p + KeyAt, KeyLength).SequenceEqual(expected)) return null;
        int count = ReadInt(p, 8), buckets = ReadInt(p, 12), moduleCount = ReadInt(p, 16);
        long names = *(long*)(p + 24);
        if (count < 0 || buckets < 16 || !BitOperations.IsPow2(buckets) || moduleCount < 0 || moduleCount > 1 << 16 || names < 0 ||
            ImageSize(count, buckets, moduleCount, names) != image.Length)
            return null;
        int* moduleAt = (int*)(p + HeaderSize + count * 32L + 4L * buckets), moduleLength = moduleAt + moduleCount;
        byte* blob = p + ImageSize(count, buckets, moduleCount, 0);
        var modules = new string[moduleCount];
        for (int m = 0; m < moduleCount; m++)
        {
            if (moduleAt[m] < 0 || moduleLength[m] < 0 || (long)moduleAt[m] + moduleLength[m] > names) return null;
            modules[m] = System.Text.Encoding.UTF8.GetString(blob + moduleAt[m], moduleLength[m]);
        }
        return new Kallsyms(image, null, modules, ReadInt(p, 20) != 0, source);
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
        while (i >= 0 && i + 1 < _count)
        {
            i++;
            if (_starts[i] > symbol.Address) { next = Symbol(i); return true; }
        }
        next = default;
        return false;
    }

    private int IndexAtOrBelow(ulong address)
    {
        int lo = 0, hi = _count; // first index with start > address
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

    /// <summary>The first (lowest-address) symbol of that name and how many there are; (-1, 0) when none.</summary>
    private (int First, int Count) Named(string name)
    {
        Span<byte> buffer = stackalloc byte[256];
        int max = System.Text.Encoding.UTF8.GetMaxByteCount(name.Length);
        var bytes = max <= buffer.Length ? buffer[..System.Text.Encoding.UTF8.GetBytes(name, buffer)] : System.Text.Encoding.UTF8.GetBytes(name);
        int first = -1, count = 0, steps = 0;
        // A mapped image's chains are checked as they are walked: an index outside the table, or a loop, ends the walk.
        for (int i = _buckets[Hash(bytes) & _bucketMask]; (uint)i < (uint)_count && steps++ < _count; i = _next[i])
            if (NameBytes(i).SequenceEqual(bytes))
            {
                if (first < 0) first = i;
                count++;
            }
        GC.KeepAlive(this);
        return (first, count);
    }

    /// <summary>FNV-1a over a name's bytes.</summary>
    private static int Hash(ReadOnlySpan<byte> name)
    {
        uint h = 2166136261;
        foreach (byte b in name) h = (h ^ b) * 16777619;
        return (int)(h & 0x7fffffff);
    }
}
