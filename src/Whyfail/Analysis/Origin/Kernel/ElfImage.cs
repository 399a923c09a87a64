using System.Buffers.Binary;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Whyfail.Analysis.Origin.Kernel;

/// <summary>One PT_LOAD program header: file bytes [Offset, Offset+FileSize) appear at virtual [VirtualAddress, ...).</summary>
/// <param name="Flags">p_flags: 1 executable, 2 writable, 4 readable.</param>
public readonly record struct ElfLoadSegment(ulong VirtualAddress, ulong Offset, ulong FileSize, ulong MemorySize, uint Flags = 0)
{
    public bool IsExecutable => (Flags & 1) != 0;
}

/// <summary>
/// A minimal reader of a 64-bit little-endian ELF file (a vmlinux or the /proc/kcore core file):
/// its PT_LOAD segments (virtual address to file offset), its notes (GNU build id) and, on demand,
/// one symbol from .symtab. Reads go through pread (<see cref="RandomAccess"/>), so huge sparse files
/// such as /proc/kcore are fine.
/// </summary>
public sealed class ElfImage : IDisposable
{
    private const uint PtLoad = 1, PtNote = 4, ShtSymtab = 2, ShtNote = 7;
    private readonly SafeFileHandle _file;
    private readonly ElfLoadSegment[] _loads;        // sorted by virtual address
    private readonly List<(ulong Offset, ulong Size)> _noteBlocks = new();
    private readonly ulong _shoff;
    private readonly int _shnum, _shentsize;

    private ElfImage(string path, SafeFileHandle file, ElfLoadSegment[] loads, ulong shoff, int shnum, int shentsize)
    {
        Path = path;
        _file = file;
        _loads = loads;
        _shoff = shoff;
        _shnum = shnum;
        _shentsize = shentsize;
    }

    public string Path { get; }
    public ushort Type { get; private init; }            // 2 = EXEC (vmlinux), 4 = CORE (kcore)
    public IReadOnlyList<ElfLoadSegment> LoadSegments => _loads;

    public static ElfImage Open(string path)
    {
        SafeFileHandle file;
        try
        {
            file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KernelAnalysisException($"cannot open {path}: {e.Message}", e);
        }
        try
        {
            return Parse(path, file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static ElfImage Parse(string path, SafeFileHandle file)
    {
        Span<byte> eh = stackalloc byte[64];
        ReadExactly(file, eh, 0, path);
        if (eh[0] != 0x7f || eh[1] != (byte)'E' || eh[2] != (byte)'L' || eh[3] != (byte)'F')
            throw new KernelAnalysisException($"{path} is not an ELF file");
        if (eh[4] != 2 || eh[5] != 1)
            throw new KernelAnalysisException($"{path} is not a 64-bit little-endian ELF file");
        ushort type = U16(eh, 16);
        ulong phoff = U64(eh, 32), shoff = U64(eh, 40);
        int phentsize = U16(eh, 54), phnum = U16(eh, 56), shentsize = U16(eh, 58), shnum = U16(eh, 60);
        if (phnum == 0xffff || shnum == 0)
        {
            // PN_XNUM / large section counts live in section header 0.
            if (shoff != 0 && shentsize >= 64)
            {
                Span<byte> sh0 = stackalloc byte[64];
                ReadExactly(file, sh0, (long)shoff, path);
                if (phnum == 0xffff) phnum = (int)U32(sh0, 44);
                if (shnum == 0) shnum = (int)U64(sh0, 32);
            }
        }
        if (phnum > 0 && phentsize < 56) throw new KernelAnalysisException($"{path}: bad program header size {phentsize}");

        var loads = new List<ElfLoadSegment>();
        var notes = new List<(ulong, ulong)>();
        if (phnum > 0)
        {
            var ph = new byte[phnum * phentsize];
            ReadExactly(file, ph, (long)phoff, path);
            for (int i = 0; i < phnum; i++)
            {
                var p = ph.AsSpan(i * phentsize, 56);
                uint ptype = U32(p, 0);
                if (ptype == PtLoad)
                    loads.Add(new ElfLoadSegment(U64(p, 16), U64(p, 8), U64(p, 32), U64(p, 40), U32(p, 4)));
                else if (ptype == PtNote)
                    notes.Add((U64(p, 8), U64(p, 32)));
            }
        }
        loads.Sort((a, b) => a.VirtualAddress.CompareTo(b.VirtualAddress));
        var image = new ElfImage(path, file, loads.ToArray(), shoff, shentsize >= 64 ? shnum : 0, shentsize) { Type = type };
        image._noteBlocks.AddRange(notes);
        return image;
    }

    /// <summary>Maps a virtual address to its file offset; false when no PT_LOAD covers all of [address, address+length).</summary>
    public bool TryMap(ulong address, int length, out long fileOffset)
    {
        int lo = 0, hi = _loads.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_loads[mid].VirtualAddress <= address) lo = mid + 1; else hi = mid;
        }
        // Segments may overlap (kcore's text mapping and its direct map): try every candidate below.
        for (int i = lo - 1; i >= 0; i--)
        {
            var s = _loads[i];
            ulong delta = address - s.VirtualAddress;
            if (delta < s.FileSize && s.FileSize - delta >= (ulong)length)
            {
                fileOffset = (long)(s.Offset + delta);
                return true;
            }
            if (lo - 1 - i > 64) break;
        }
        fileOffset = 0;
        return false;
    }

    /// <summary>Reads bytes at a virtual address; false when unmapped or short.</summary>
    public bool TryReadVirtual(ulong address, Span<byte> destination)
    {
        if (!TryMap(address, destination.Length, out long offset)) return false;
        try
        {
            return ReadFully(_file, destination, offset) == destination.Length;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>The GNU build id (NT_GNU_BUILD_ID) from PT_NOTE segments or SHT_NOTE sections, as lowercase hex.</summary>
    public string? ReadBuildId()
    {
        foreach (var (offset, size) in _noteBlocks.Concat(NoteSections()))
        {
            if (size == 0 || size > 1 << 20) continue;
            var buf = new byte[size];
            if (ReadFully(_file, buf, (long)offset) != buf.Length) continue;
            string? id = ElfNotes.FindGnuBuildId(buf);
            if (id != null) return id;
        }
        return null;
    }

    private IEnumerable<(ulong, ulong)> NoteSections()
    {
        for (int i = 0; i < _shnum; i++)
        {
            var sh = ReadSectionHeader(i);
            if (sh.Type == ShtNote) yield return (sh.Offset, sh.Size);
        }
    }

    /// <summary>The value of the first symbol called <paramref name="name"/> in .symtab (null when absent or stripped).</summary>
    public ulong? FindSymbol(string name) => FindSymbol(name, out _);

    /// <summary>Every function symbol (STT_FUNC) of .symtab with its value and size, in table order.</summary>
    public List<(string Name, ulong Value, ulong Size)> FunctionSymbols()
    {
        var list = new List<(string, ulong, ulong)>();
        VisitSymbols((name, sym) =>
        {
            if ((sym[4] & 0xf) == 2) list.Add((Encoding.UTF8.GetString(name), U64(sym, 8), U64(sym, 16))); // STT_FUNC
            return true;
        });
        return list;
    }

    /// <summary>Like <see cref="FindSymbol(string)"/>, also giving the symbol's st_size.</summary>
    public ulong? FindSymbol(string name, out ulong size)
    {
        byte[] wanted = Encoding.UTF8.GetBytes(name);
        ulong? value = null;
        ulong found = 0;
        VisitSymbols((n, sym) =>
        {
            if (!n.SequenceEqual(wanted)) return true;
            (value, found) = (U64(sym, 8), U64(sym, 16));
            return false;
        });
        size = found;
        return value;
    }

    private delegate bool SymbolVisitor(ReadOnlySpan<byte> name, ReadOnlySpan<byte> entry);

    /// <summary>Calls <paramref name="visit"/> with each .symtab entry (Elf64_Sym) and its name, until it returns false.</summary>
    private void VisitSymbols(SymbolVisitor visit)
    {
        for (int i = 0; i < _shnum; i++)
        {
            var sh = ReadSectionHeader(i);
            if (sh.Type != ShtSymtab || sh.EntSize < 24 || sh.Link >= (uint)_shnum) continue;
            var strSh = ReadSectionHeader((int)sh.Link);
            var strtab = new byte[strSh.Size];
            ReadExactly(_file, strtab, (long)strSh.Offset, Path);
            const int chunkEntries = 8192;
            var chunk = new byte[chunkEntries * (int)sh.EntSize];
            ulong count = sh.Size / sh.EntSize;
            for (ulong first = 0; first < count; first += chunkEntries)
            {
                int n = (int)Math.Min(chunkEntries, count - first);
                var span = chunk.AsSpan(0, n * (int)sh.EntSize);
                ReadExactly(_file, span, (long)(sh.Offset + first * sh.EntSize), Path);
                for (int k = 0; k < n; k++)
                {
                    var sym = span.Slice(k * (int)sh.EntSize, 24);
                    uint nameOff = U32(sym, 0);
                    if (nameOff >= strtab.Length) continue;
                    var str = strtab.AsSpan((int)nameOff);
                    int end = str.IndexOf((byte)0);
                    if (!visit(end < 0 ? str : str[..end], sym)) return;
                }
            }
        }
    }

    private (uint Type, ulong Offset, ulong Size, uint Link, ulong EntSize, uint Name) ReadSectionHeader(int index)
    {
        Span<byte> sh = stackalloc byte[64];
        ReadExactly(_file, sh, (long)(_shoff + (ulong)(index * _shentsize)), Path);
        return (U32(sh, 4), U64(sh, 24), U64(sh, 32), U32(sh, 40), U64(sh, 56), U32(sh, 0));
    }

    /// <summary>Whether a section called <paramref name="name"/> exists (e.g. ".debug_info": the file carries DWARF).</summary>
    public bool HasSection(string name) => FindSection(name) != null;

    /// <summary>The file offset and size of the section called <paramref name="name"/>, or null.</summary>
    public (ulong Offset, ulong Size)? FindSection(string name)
    {
        if (_shnum == 0) return null;
        Span<byte> eh = stackalloc byte[64];
        ReadExactly(_file, eh, 0, Path);
        int shstrndx = U16(eh, 62);
        if (shstrndx >= _shnum) return null;
        var strSh = ReadSectionHeader(shstrndx);
        if (strSh.Size > 1 << 20) return null;
        var names = new byte[strSh.Size];
        ReadExactly(_file, names, (long)strSh.Offset, Path);
        byte[] wanted = Encoding.UTF8.GetBytes(name + "\0");
        for (int i = 0; i < _shnum; i++)
        {
            var sh = ReadSectionHeader(i);
            if (sh.Name < names.Length && names.AsSpan((int)sh.Name).StartsWith(wanted)) return (sh.Offset, sh.Size);
        }
        return null;
    }

    /// <summary>Up to <paramref name="length"/> bytes of the file at <paramref name="offset"/> (fewer at its end).</summary>
    public byte[] ReadAt(ulong offset, int length)
    {
        var buf = new byte[length];
        int n;
        try
        {
            n = ReadFully(_file, buf, (long)offset);
        }
        catch (IOException e)
        {
            throw new KernelAnalysisException($"cannot read {Path} at offset {offset}: {e.Message}", e);
        }
        return n == length ? buf : buf[..n];
    }

    public void Dispose() => _file.Dispose();

    private static int ReadFully(SafeFileHandle file, Span<byte> buffer, long offset)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = RandomAccess.Read(file, buffer[total..], offset + total);
            if (n <= 0) break;
            total += n;
        }
        return total;
    }

    private static void ReadExactly(SafeFileHandle file, Span<byte> buffer, long offset, string path)
    {
        int n;
        try
        {
            n = ReadFully(file, buffer, offset);
        }
        catch (IOException e)
        {
            throw new KernelAnalysisException($"cannot read {path} at offset {offset}: {e.Message}", e);
        }
        if (n != buffer.Length)
            throw new KernelAnalysisException($"{path} is truncated (wanted {buffer.Length} bytes at offset {offset}, got {n})");
    }

    private static ushort U16(ReadOnlySpan<byte> b, int o) => BinaryPrimitives.ReadUInt16LittleEndian(b[o..]);
    private static uint U32(ReadOnlySpan<byte> b, int o) => BinaryPrimitives.ReadUInt32LittleEndian(b[o..]);
    private static ulong U64(ReadOnlySpan<byte> b, int o) => BinaryPrimitives.ReadUInt64LittleEndian(b[o..]);
}

/// <summary>ELF note parsing (Elf64_Nhdr: namesz, descsz, type; name and desc padded to 4 bytes).</summary>
public static class ElfNotes
{
    public const uint NtGnuBuildId = 3;

    /// <summary>The desc of the first "GNU" note of type NT_GNU_BUILD_ID, as lowercase hex; null when there is none.</summary>
    public static string? FindGnuBuildId(ReadOnlySpan<byte> notes)
    {
        int pos = 0;
        while (pos + 12 <= notes.Length)
        {
            uint namesz = BinaryPrimitives.ReadUInt32LittleEndian(notes[pos..]);
            uint descsz = BinaryPrimitives.ReadUInt32LittleEndian(notes[(pos + 4)..]);
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(notes[(pos + 8)..]);
            long nameStart = pos + 12;
            long descStart = nameStart + Align4(namesz);
            long next = descStart + Align4(descsz);
            if (namesz > int.MaxValue || descsz > int.MaxValue || next > notes.Length || descStart + descsz > notes.Length) return null;
            var name = notes.Slice((int)nameStart, (int)namesz);
            if (type == NtGnuBuildId && namesz == 4 && name.SequenceEqual("GNU\0"u8) && descsz > 0)
                return Convert.ToHexStringLower(notes.Slice((int)descStart, (int)descsz));
            pos = (int)next;
        }
        return null;
    }

    private static long Align4(uint n) => (n + 3L) & ~3L;
}
