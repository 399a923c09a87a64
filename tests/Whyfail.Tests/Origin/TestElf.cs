using System.Buffers.Binary;
using System.Text;

namespace Whyfail.Tests.Origin;

/// <summary>Writes small 64-bit little-endian ELF files: PT_LOAD segments, a build-id note, a .symtab.</summary>
internal sealed class TestElf
{
    private readonly List<(ulong Vaddr, byte[] Data)> _loads = new();
    private readonly List<(string Name, ulong Value)> _symbols = new();
    private byte[]? _buildId;
    public ushort Type { get; init; } = 4; // ET_CORE

    public TestElf Load(ulong vaddr, byte[] data) { _loads.Add((vaddr, data)); return this; }
    public TestElf Symbol(string name, ulong value) { _symbols.Add((name, value)); return this; }
    public TestElf BuildId(byte[] id) { _buildId = id; return this; }

    public static byte[] GnuBuildIdNote(byte[] id)
    {
        var note = new byte[12 + 4 + ((id.Length + 3) & ~3)];
        BinaryPrimitives.WriteUInt32LittleEndian(note, 4);
        BinaryPrimitives.WriteUInt32LittleEndian(note.AsSpan(4), (uint)id.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(note.AsSpan(8), 3);
        "GNU\0"u8.CopyTo(note.AsSpan(12));
        id.CopyTo(note, 16);
        return note;
    }

    public void WriteTo(string path) => File.WriteAllBytes(path, Build());

    public byte[] Build()
    {
        var body = new MemoryStream();
        int phnum = _loads.Count + (_buildId != null ? 1 : 0);
        long dataStart = 64 + phnum * 56;
        body.Write(new byte[dataStart]);
        var phdrs = new List<(uint Type, ulong Offset, ulong Vaddr, ulong Size)>();
        foreach (var (vaddr, data) in _loads)
        {
            Align(body, 16);
            phdrs.Add((1, (ulong)body.Position, vaddr, (ulong)data.Length));
            body.Write(data);
        }
        if (_buildId != null)
        {
            Align(body, 4);
            var note = GnuBuildIdNote(_buildId);
            phdrs.Add((4, (ulong)body.Position, 0, (ulong)note.Length));
            body.Write(note);
        }

        ulong shoff = 0;
        int shnum = 0;
        if (_symbols.Count > 0)
        {
            var strtab = new MemoryStream();
            strtab.WriteByte(0);
            var symtab = new byte[24 * (_symbols.Count + 1)];
            for (int i = 0; i < _symbols.Count; i++)
            {
                var e = symtab.AsSpan(24 * (i + 1));
                BinaryPrimitives.WriteUInt32LittleEndian(e, (uint)strtab.Position);
                e[4] = 0x12; // GLOBAL FUNC
                BinaryPrimitives.WriteUInt16LittleEndian(e[6..], 1);
                BinaryPrimitives.WriteUInt64LittleEndian(e[8..], _symbols[i].Value);
                strtab.Write(Encoding.UTF8.GetBytes(_symbols[i].Name + "\0"));
            }
            byte[] shstr = "\0.symtab\0.strtab\0.shstrtab\0"u8.ToArray();
            Align(body, 8);
            ulong symOff = (ulong)body.Position; body.Write(symtab);
            ulong strOff = (ulong)body.Position; body.Write(strtab.ToArray());
            ulong shstrOff = (ulong)body.Position; body.Write(shstr);
            Align(body, 8);
            shoff = (ulong)body.Position;
            shnum = 4;
            body.Write(new byte[64]);                                                          // null
            body.Write(Section(1, 2, symOff, (ulong)symtab.Length, link: 2, entsize: 24));     // .symtab
            body.Write(Section(9, 3, strOff, (ulong)strtab.Length, link: 0, entsize: 0));      // .strtab
            body.Write(Section(17, 3, shstrOff, (ulong)shstr.Length, link: 0, entsize: 0));    // .shstrtab
        }

        var bytes = body.ToArray();
        var eh = bytes.AsSpan(0, 64);
        eh[0] = 0x7f; eh[1] = (byte)'E'; eh[2] = (byte)'L'; eh[3] = (byte)'F';
        eh[4] = 2; eh[5] = 1; eh[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(eh[16..], Type);
        BinaryPrimitives.WriteUInt16LittleEndian(eh[18..], 62); // x86-64
        BinaryPrimitives.WriteUInt32LittleEndian(eh[20..], 1);
        BinaryPrimitives.WriteUInt64LittleEndian(eh[32..], 64);
        BinaryPrimitives.WriteUInt64LittleEndian(eh[40..], shoff);
        BinaryPrimitives.WriteUInt16LittleEndian(eh[52..], 64);
        BinaryPrimitives.WriteUInt16LittleEndian(eh[54..], 56);
        BinaryPrimitives.WriteUInt16LittleEndian(eh[56..], (ushort)phnum);
        BinaryPrimitives.WriteUInt16LittleEndian(eh[58..], 64);
        BinaryPrimitives.WriteUInt16LittleEndian(eh[60..], (ushort)shnum);
        BinaryPrimitives.WriteUInt16LittleEndian(eh[62..], (ushort)(shnum > 0 ? 3 : 0));
        for (int i = 0; i < phdrs.Count; i++)
        {
            var p = bytes.AsSpan(64 + i * 56, 56);
            BinaryPrimitives.WriteUInt32LittleEndian(p, phdrs[i].Type);
            BinaryPrimitives.WriteUInt32LittleEndian(p[4..], 5);
            BinaryPrimitives.WriteUInt64LittleEndian(p[8..], phdrs[i].Offset);
            BinaryPrimitives.WriteUInt64LittleEndian(p[16..], phdrs[i].Vaddr);
            BinaryPrimitives.WriteUInt64LittleEndian(p[24..], 0);
            BinaryPrimitives.WriteUInt64LittleEndian(p[32..], phdrs[i].Size);
            BinaryPrimitives.WriteUInt64LittleEndian(p[40..], phdrs[i].Size);
            BinaryPrimitives.WriteUInt64LittleEndian(p[48..], 16);
        }
        return bytes;
    }

    private static byte[] Section(uint name, uint type, ulong offset, ulong size, uint link, ulong entsize)
    {
        var s = new byte[64];
        BinaryPrimitives.WriteUInt32LittleEndian(s, name);
        BinaryPrimitives.WriteUInt32LittleEndian(s.AsSpan(4), type);
        BinaryPrimitives.WriteUInt64LittleEndian(s.AsSpan(24), offset);
        BinaryPrimitives.WriteUInt64LittleEndian(s.AsSpan(32), size);
        BinaryPrimitives.WriteUInt32LittleEndian(s.AsSpan(40), link);
        BinaryPrimitives.WriteUInt64LittleEndian(s.AsSpan(56), entsize);
        return s;
    }

    private static void Align(MemoryStream s, int alignment)
    {
        while (s.Position % alignment != 0) s.WriteByte(0);
    }
}

/// <summary>A temporary directory removed at dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "whyfail-origin-" + Guid.NewGuid().ToString("N")));
    public string Path { get; }
    public string File(string name) => System.IO.Path.Combine(Path, name);
    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
