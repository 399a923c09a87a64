using System.Buffers.Binary;
using System.Text;
using Whyfail.Capture.Native;

namespace Whyfail.Capture;

/// <summary>
/// A small BTF file holding only what whyfail's CO-RE relocations read from the running kernel's BTF, given to
/// libbpf as <c>btf_custom_path</c> so that loading the programs does not parse the whole vmlinux BTF (5 MB,
/// 100k+ types: ~50 ms of CPU on every start, issue 16). The idea of <c>bpftool gen min_core_btf</c>, cut
/// to what whyfail's objects use and such that libbpf's answer cannot differ from the full BTF's:
/// <list type="bullet">
/// <item>Only field relocations whose root is a struct or union are accepted (the objects have no type-based,
/// enum-value or target-type-id relocations; an object with one gets no small BTF and loads as before).</item>
/// <item>Every kernel type whose name (without a ___flavour suffix) is a root's, with the same kind, is kept:
/// libbpf sees the same candidates. A root the kernel's BTF lacks means no small BTF (libbpf would then look
/// in module BTFs, which this file cannot stand for).</item>
/// <item>Each kept type comes with everything it holds by value, member names, offsets, bitfields and sizes
/// unchanged (struct and union members, array elements, typedefs and qualifiers, ints, enums): all that
/// matching an access path and computing its offset reads. A pointer's target is never read by a field
/// relocation (a pointer is compatible with any pointer), so pointers become pointers to void, which keeps
/// the closure small.</item>
/// </list>
/// Made once per boot and per set of roots, root-only, under /run/whyfail/btf (see <see cref="BtfIdCache"/>):
/// written to a fresh file and renamed into place, and checked on every use (the file parses as BTF to its
/// end, and holds each root); a file that does not pass is made again. Any doubt gives null: libbpf then
/// parses the kernel's BTF itself, as it always did.
/// </summary>
internal static class CoreBtf
{
    private const string Vmlinux = "/sys/kernel/btf/vmlinux";
    /// <summary>Changes when what the file holds changes, so that an older whyfail's file is not taken.</summary>
    private const string FormatVersion = "core-btf 1";

    /// <summary>Set when a load with the small BTF failed in CO-RE relocation: the rest of this run uses the kernel's BTF.</summary>
    public static bool Disabled { get; set; } = Environment.GetEnvironmentVariable("WHYFAIL_CORE_BTF") == "kernel";

    /// <summary>The small BTF for this object on this boot (made if needed), or null: let libbpf read the kernel's.</summary>
    public static string? PathFor(ReadOnlySpan<byte> objectImage) => CacheDirectory() is { } dir ? PathFor(objectImage, dir) : null;

    /// <summary>The same in <paramref name="dir"/> (a directory only root can write: see <see cref="BtfIdCache.FileName"/>).</summary>
    internal static string? PathFor(ReadOnlySpan<byte> objectImage, string dir)
    {
        try
        {
            if (Roots(objectImage) is not { Count: > 0 } roots) return null;
            string file = Path.Combine(dir, FileName(roots));
            if (IsValid(file, roots)) return file;
            if (Make(roots) is not { } bytes) return null;
            string tmp = $"{file}.{Environment.ProcessId}.tmp";
            File.Delete(tmp);
            using (var s = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write))
                s.Write(bytes);
            File.Move(tmp, file, overwrite: true);
            return IsValid(file, roots) ? file : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>This boot's cache directory when whyfail is root and it is safe; null otherwise.</summary>
    private static string? CacheDirectory() => BtfIdCache.FileName() is { } f ? Path.GetDirectoryName(f) : null;

    /// <summary>boot id (the directory's files are per boot like <see cref="BtfIdCache"/>'s) + a hash of the roots.</summary>
    internal static string FileName(IReadOnlyCollection<(BtfKind Kind, string Name)> roots)
    {
        string boot = Path.GetFileName(BtfIdCache.FileName() ?? "none");
        var key = new StringBuilder(FormatVersion);
        foreach (var (kind, name) in roots.OrderBy(r => r.Name, StringComparer.Ordinal).ThenBy(r => r.Kind))
            key.Append('\n').Append((int)kind).Append(' ').Append(name);
        // FNV-1a: a name, not a defence (the directory is root's, the content is checked); SHA-256 would load OpenSSL (~10 ms).
        ulong hash = 0xcbf29ce484222325;
        foreach (byte b in Encoding.UTF8.GetBytes(key.ToString()))
            hash = (hash ^ b) * 0x100000001b3;
        return $"{boot}.core-{hash:x16}";
    }

    /// <summary>
    /// The (kind, essential name) of the root type of every CO-RE relocation of the object; null when one is of a
    /// kind this file cannot answer exactly (not a field relocation, or a root that is not a named struct/union).
    /// </summary>
    internal static List<(BtfKind Kind, string Name)>? Roots(ReadOnlySpan<byte> image)
    {
        var (btfSec, extSec) = (ElfSection(image, ".BTF"), ElfSection(image, ".BTF.ext"));
        if (btfSec is not { } b || extSec is not { } e) return null;
        var local = Btf.Parse(image.Slice(b.Offset, b.Size).ToArray());
        var ext = image.Slice(e.Offset, e.Size);
        if (BinaryPrimitives.ReadUInt16LittleEndian(ext) != BtfFormat.Magic) return null;
        uint hdrLen = BinaryPrimitives.ReadUInt32LittleEndian(ext[4..]);
        if (hdrLen < 32) return []; // no CO-RE section
        int coreOff = (int)hdrLen + (int)BinaryPrimitives.ReadUInt32LittleEndian(ext[24..]);
        int coreLen = (int)BinaryPrimitives.ReadUInt32LittleEndian(ext[28..]);
        if (coreLen == 0) return [];
        var core = ext.Slice(coreOff, coreLen);
        int recSize = (int)BinaryPrimitives.ReadUInt32LittleEndian(core);
        if (recSize < 16) return null;
        var roots = new HashSet<(BtfKind, string)>();
        for (int p = 4; p < core.Length;)
        {
            int n = (int)BinaryPrimitives.ReadUInt32LittleEndian(core[(p + 4)..]);
            p += 8;
            for (int i = 0; i < n; i++, p += recSize)
            {
                uint typeId = BinaryPrimitives.ReadUInt32LittleEndian(core[(p + 4)..]);
                uint kind = BinaryPrimitives.ReadUInt32LittleEndian(core[(p + 12)..]);
                if (kind > 5) return null; // only BPF_CORE_FIELD_* (byte offset, size, exists, signed, lshift, rshift)
                BtfKind k = local.Kind((int)typeId);
                string name = EssentialName(local.Name((int)typeId));
                if ((k != BtfKind.Struct && k != BtfKind.Union) || name.Length == 0) return null;
                roots.Add((k, name));
            }
        }
        return [.. roots];
    }

    /// <summary>The small BTF for these roots from the running kernel's BTF; null when a root is not there.</summary>
    internal static byte[]? Make(IReadOnlyCollection<(BtfKind Kind, string Name)> roots) => Make(Btf.Parse(File.ReadAllBytes(Vmlinux)), roots);

    internal static byte[]? Make(Btf kernel, IReadOnlyCollection<(BtfKind Kind, string Name)> roots)
    {
        var wanted = roots.ToHashSet();
        var keep = new List<int>();
        var newId = new Dictionary<int, int> { [0] = 0 };
        var found = new HashSet<(BtfKind, string)>();
        for (int id = 1; id < kernel.Count; id++)
        {
            var key = (kernel.Kind(id), EssentialName(kernel.Name(id)));
            if (!wanted.Contains(key)) continue;
            found.Add(key);
            Visit(id);
        }
        if (found.Count != wanted.Count) return null;

        void Visit(int id)
        {
            var pending = new Stack<int>();
            pending.Push(id);
            while (pending.Count > 0)
            {
                int t = pending.Pop();
                if (newId.ContainsKey(t)) continue;
                newId[t] = keep.Count + 1;
                keep.Add(t);
                foreach (int r in kernel.ByValue(t)) pending.Push(r);
            }
        }

        return kernel.Write(keep, newId);
    }

    /// <summary>Whether the file is a root-owned regular file that parses as BTF and holds every root.</summary>
    internal static bool IsValid(string file, IReadOnlyCollection<(BtfKind Kind, string Name)> roots)
    {
        try
        {
            if (SafeDirectory.LStat(file) is not { } st || !SafeDirectory.IsRegular(st.Mode) || st.Uid != Libc.GetEuid()) return false;
            var btf = Btf.Parse(File.ReadAllBytes(file));
            var have = new HashSet<(BtfKind, string)>();
            for (int id = 1; id < btf.Count; id++)
            {
                btf.CheckReferences(id);
                // Roots are structs and unions (Roots): only their names are made into strings.
                if (btf.Kind(id) is BtfKind.Struct or BtfKind.Union) have.Add((btf.Kind(id), EssentialName(btf.Name(id))));
            }
            return roots.All(have.Contains);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or ArgumentException)
        {
            return false;
        }
    }

    /// <summary>A name without libbpf's ___flavour suffix (bpf_core_essential_name_len).</summary>
    internal static string EssentialName(string name)
    {
        // X___Y, X and Y not underscores; the last such separator counts.
        for (int i = name.Length - 5; i >= 0; i--)
            if (name[i] != '_' && name[i + 1] == '_' && name[i + 2] == '_' && name[i + 3] == '_' && name[i + 4] != '_')
                return name[..(i + 1)];
        return name;
    }

    /// <summary>A section of a little-endian ELF64 object, by name.</summary>
    internal static (int Offset, int Size)? ElfSection(ReadOnlySpan<byte> elf, string name)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[4] != 2 || elf[5] != 1) return null;
        var d = elf;
        long shoff = BinaryPrimitives.ReadInt64LittleEndian(d[0x28..]);
        int shentsize = BinaryPrimitives.ReadUInt16LittleEndian(d[0x3A..]);
        int shnum = BinaryPrimitives.ReadUInt16LittleEndian(d[0x3C..]);
        int shstrndx = BinaryPrimitives.ReadUInt16LittleEndian(d[0x3E..]);
        static (long Off, long Size, uint Name) Sec(ReadOnlySpan<byte> elf, long shoff, int shentsize, int i)
        {
            var s = elf.Slice((int)(shoff + (long)i * shentsize), 64);
            return (BinaryPrimitives.ReadInt64LittleEndian(s[0x18..]), BinaryPrimitives.ReadInt64LittleEndian(s[0x20..]), BinaryPrimitives.ReadUInt32LittleEndian(s));
        }
        long strOff = Sec(elf, shoff, shentsize, shstrndx).Off;
        for (int i = 0; i < shnum; i++)
        {
            var s = Sec(elf, shoff, shentsize, i);
            var n = d[(int)(strOff + s.Name)..];
            n = n[..n.IndexOf((byte)0)];
            if (Encoding.ASCII.GetString(n) == name) return ((int)s.Off, (int)s.Size);
        }
        return null;
    }

    /// <summary>Raw BTF (a header, type records, a string section), read with every record's bounds checked.</summary>
    internal sealed class Btf
    {
        private readonly byte[] _data;
        private readonly int _types, _strings, _stringsLen;
        private readonly List<int> _offsets = [0]; // type id → offset of its record from the type section; id 0 is void

        private Btf(byte[] data, int types, int strings, int stringsLen)
        {
            (_data, _types, _strings, _stringsLen) = (data, types, strings, stringsLen);
        }

        public int Count => _offsets.Count;

        public static Btf Parse(byte[] data)
        {
            var d = data.AsSpan();
            if (d.Length < 24 || BinaryPrimitives.ReadUInt16LittleEndian(d) != BtfFormat.Magic) throw new InvalidDataException("not BTF");
            int hdrLen = (int)BinaryPrimitives.ReadUInt32LittleEndian(d[4..]);
            long typeOff = hdrLen + (long)BinaryPrimitives.ReadUInt32LittleEndian(d[8..]), typeLen = BinaryPrimitives.ReadUInt32LittleEndian(d[12..]);
            long strOff = hdrLen + (long)BinaryPrimitives.ReadUInt32LittleEndian(d[16..]), strLen = BinaryPrimitives.ReadUInt32LittleEndian(d[20..]);
            if (hdrLen < 24 || typeOff + typeLen > d.Length || strOff + strLen > d.Length || strLen == 0 || d[(int)(strOff + strLen - 1)] != 0)
                throw new InvalidDataException("BTF sections out of bounds");
            var btf = new Btf(data, (int)typeOff, (int)strOff, (int)strLen);
            int p = 0;
            while (p < typeLen)
            {
                if (p + 12 > typeLen) throw new InvalidDataException("truncated BTF type");
                btf._offsets.Add(p);
                uint info = BinaryPrimitives.ReadUInt32LittleEndian(d[(int)(typeOff + p + 4)..]);
                btf.CheckName(p);
                var kind = BtfFormat.KindOf(info);
                p += 12 + (BtfFormat.Extra(kind, BtfFormat.VlenOf(info)) ?? throw new InvalidDataException($"unknown BTF kind {(int)kind}"));
            }
            if (p != typeLen) throw new InvalidDataException("BTF types do not end at the section's end");
            return btf;
        }

        private ReadOnlySpan<byte> Rec(int id) => _data.AsSpan(_types + _offsets[id]);
        private uint U32(int id, int at) => BinaryPrimitives.ReadUInt32LittleEndian(Rec(id)[at..]);
        private uint Info(int id) => U32(id, 4);
        public BtfKind Kind(int id) => id == 0 ? BtfKind.Unknown : BtfFormat.KindOf(Info(id));
        private int Vlen(int id) => BtfFormat.VlenOf(Info(id));
        public string Name(int id) => id == 0 ? "" : Str(U32(id, 0));

        private string Str(uint off)
        {
            if (off >= _stringsLen) throw new InvalidDataException("BTF string offset out of bounds");
            var s = _data.AsSpan(_strings + (int)off, _stringsLen - (int)off);
            return Encoding.UTF8.GetString(s[..s.IndexOf((byte)0)]);
        }

        /// <summary>What <see cref="Str"/> checks (in bounds, NUL-terminated: the section ends with a NUL), without making the string.</summary>
        private void CheckStr(uint off)
        {
            if (off >= _stringsLen) throw new InvalidDataException("BTF string offset out of bounds");
        }

        private void CheckName(int recOffset)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(_data.AsSpan(_types + recOffset)) >= _stringsLen)
                throw new InvalidDataException("BTF name offset out of bounds");
        }

        /// <summary>The types this one holds by value (what a field access can reach without a pointer).</summary>
        public IEnumerable<int> ByValue(int id)
        {
            switch (Kind(id))
            {
                case BtfKind.Struct or BtfKind.Union:
                    for (int i = 0; i < Vlen(id); i++) yield return (int)U32(id, 12 + 12 * i + 4);
                    break;
                case BtfKind.Array:
                    yield return (int)U32(id, 12);
                    yield return (int)U32(id, 16);
                    break;
                case BtfKind.Typedef or BtfKind.Volatile or BtfKind.Const or BtfKind.Restrict or BtfKind.TypeTag:
                    yield return (int)U32(id, 8);
                    break;
                case BtfKind.Int or BtfKind.Enum or BtfKind.Enum64 or BtfKind.Fwd or BtfKind.Float or BtfKind.Ptr:
                    break;
                default: // functions, variables, sections, tags: never inside a struct by value
                    throw new InvalidDataException($"BTF kind {(int)Kind(id)} held by value");
            }
        }

        /// <summary>Throws when a record refers to a type or string outside this BTF.</summary>
        public void CheckReferences(int id)
        {
            BtfKind k = Kind(id);
            IEnumerable<int> refs = k switch
            {
                BtfKind.Ptr or BtfKind.Typedef or BtfKind.Volatile or BtfKind.Const or BtfKind.Restrict or BtfKind.TypeTag or BtfKind.Func or BtfKind.Var or BtfKind.DeclTag => [(int)U32(id, 8)],
                BtfKind.Struct or BtfKind.Union or BtfKind.Array => ByValue(id),
                _ => [],
            };
            foreach (int r in refs)
                if (r < 0 || r >= Count) throw new InvalidDataException("BTF type id out of bounds");
            if (k is BtfKind.Struct or BtfKind.Union)
                for (int i = 0; i < Vlen(id); i++) CheckStr(U32(id, 12 + 12 * i));
            if (k is BtfKind.Enum or BtfKind.Enum64)
                for (int i = 0; i < Vlen(id); i++) CheckStr(U32(id, 12 + (k == BtfKind.Enum ? 8 : 12) * i));
        }

        /// <summary>A new BTF of the kept types (in this order), ids renumbered, pointers made pointers to void.</summary>
        public byte[] Write(List<int> keep, Dictionary<int, int> newId)
        {
            var strings = new MemoryStream();
            strings.WriteByte(0);
            var stringOffsets = new Dictionary<string, uint> { [""] = 0 };
            uint S(uint off)
            {
                string s = Str(off);
                if (stringOffsets.TryGetValue(s, out uint o)) return o;
                o = (uint)strings.Length;
                strings.Write(Encoding.UTF8.GetBytes(s));
                strings.WriteByte(0);
                stringOffsets[s] = o;
                return o;
            }
            uint T(uint id) => (uint)newId[(int)id];

            var types = new MemoryStream();
            var w = new byte[4];
            void Put(uint v)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(w, v);
                types.Write(w);
            }
            foreach (int id in keep)
            {
                BtfKind k = Kind(id);
                int vlen = Vlen(id);
                Put(S(U32(id, 0)));
                Put(Info(id));
                Put(k switch
                {
                    BtfKind.Ptr => 0,
                    BtfKind.Typedef or BtfKind.Volatile or BtfKind.Const or BtfKind.Restrict or BtfKind.TypeTag => T(U32(id, 8)),
                    _ => U32(id, 8), // size
                });
                switch (k)
                {
                    case BtfKind.Int:
                        Put(U32(id, 12));
                        break;
                    case BtfKind.Array:
                        Put(T(U32(id, 12)));
                        Put(T(U32(id, 16)));
                        Put(U32(id, 20));
                        break;
                    case BtfKind.Struct or BtfKind.Union:
                        for (int i = 0; i < vlen; i++)
                        {
                            int m = 12 + 12 * i;
                            Put(S(U32(id, m)));
                            Put(T(U32(id, m + 4)));
                            Put(U32(id, m + 8));
                        }
                        break;
                    case BtfKind.Enum:
                        for (int i = 0; i < vlen; i++)
                        {
                            Put(S(U32(id, 12 + 8 * i)));
                            Put(U32(id, 12 + 8 * i + 4));
                        }
                        break;
                    case BtfKind.Enum64:
                        for (int i = 0; i < vlen; i++)
                        {
                            Put(S(U32(id, 12 + 12 * i)));
                            Put(U32(id, 12 + 12 * i + 4));
                            Put(U32(id, 12 + 12 * i + 8));
                        }
                        break;
                }
            }

            var output = new MemoryStream();
            void Header(uint v)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(w, v);
                output.Write(w);
            }
            output.Write([0x9F, 0xEB, 1, 0]); // magic, version 1, flags 0
            Header(24);
            Header(0);
            Header((uint)types.Length);
            Header((uint)types.Length);
            Header((uint)strings.Length);
            types.WriteTo(output);
            strings.WriteTo(output);
            return output.ToArray();
        }
    }
}
