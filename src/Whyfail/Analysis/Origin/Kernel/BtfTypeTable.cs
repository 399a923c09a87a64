using System.Buffers.Binary;
using System.Numerics;
using System.Text;
using Whyfail.Capture;

namespace Whyfail.Analysis.Origin.Kernel;

/// <summary>
/// A compact reader of raw BTF (the format of /sys/kernel/btf/vmlinux): the header, the type
/// section (each type: name_off, info = vlen | kind &lt;&lt; 24 | kind_flag &lt;&lt; 31, size-or-type, then
/// kind-specific trailing data) and the string section. Type ids start at 1 (0 is void).
/// Split BTF (modules) is read against its base table: ids and string offsets continue the base's.
/// </summary>
public sealed unsafe class BtfTypeTable
{
    // The BTF and the tables made from it are outside the managed heap (NativeBuffer): as arrays, and with a string and a
    // list per FUNC name (~60 000 of them), they were ~13 MB for the collector in deep mode's start-up (bench/README "The
    // resolver's reads and the GC, session 17"). FUNCs by name: chains of type indexes in buckets of a hash of the name's
    // bytes, made at parse time without a string.
    private readonly NativeBuffer _buffer;
    private readonly byte* _data;
    private readonly int _length;
    private readonly int _typeStart, _typeEnd, _strStart, _strLen;
    private readonly BtfTypeTable? _base;
    private readonly int _firstId;               // id of this table's first type
    private readonly NativeBuffer _index;        // offsets, then next (both per type), then buckets
    private readonly int* _offsets;              // byte offset of each type record in the data
    private readonly int* _next, _buckets;       // FUNC chains by name (-1 ends one); other types' next is unused
    private readonly int _typeCount, _bucketMask, _functionCount;

    private BtfTypeTable(NativeBuffer buffer, BtfTypeTable? baseTable)
    {
        _buffer = buffer;
        _data = buffer.Pointer;
        _length = checked((int)buffer.Length);
        _base = baseTable;
        if (_length < 24) throw new KernelAnalysisException("BTF data is too short");
        ushort magic = (ushort)(_data[0] | _data[1] << 8);
        if (magic != BtfFormat.Magic)
            throw new KernelAnalysisException(magic == 0x9FEB ? "big-endian BTF is not supported" : "not BTF data (bad magic)");
        uint hdrLen = U32(4);
        uint typeOff = U32(8), typeLen = U32(12), strOff = U32(16), strLen = U32(20);
        if (hdrLen < 24 || hdrLen + (ulong)typeOff + typeLen > (ulong)_length || hdrLen + (ulong)strOff + strLen > (ulong)_length)
            throw new KernelAnalysisException("BTF header points outside the data");
        _typeStart = (int)(hdrLen + typeOff);
        _typeEnd = _typeStart + (int)typeLen;
        _strStart = (int)(hdrLen + strOff);
        _strLen = (int)strLen;
        _firstId = baseTable == null ? 1 : baseTable.TypeCount + 1;

        // Every record is at least 12 bytes: that many types at most.
        int most = (int)(typeLen / 12) + 1;
        var offsets = NativeBuffer.Allocate(4L * most);
        try
        {
            int* o = (int*)offsets.Pointer;
            int count = 0, functions = 0;
            int pos = _typeStart;
            while (pos < _typeEnd)
            {
                if (pos + 12 > _typeEnd) throw new KernelAnalysisException($"BTF type section truncated at byte {pos}");
                o[count++] = pos;
                uint info = U32(pos + 4);
                var kind = BtfFormat.KindOf(info);
                int extra = BtfFormat.Extra(kind, BtfFormat.VlenOf(info)) ?? throw new KernelAnalysisException($"unknown BTF kind {(int)kind} at byte {pos}");
                if (kind == BtfKind.Func) functions++;
                pos += 12 + extra;
            }
            if (pos != _typeEnd) throw new KernelAnalysisException("BTF type section has a truncated last record");
            _typeCount = count;
            _functionCount = functions;
            int buckets = Math.Max(16, (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(1, functions) * 2));
            _bucketMask = buckets - 1;
            _index = NativeBuffer.Allocate(4L * (2L * count + buckets));
            _offsets = (int*)_index.Pointer;
            _next = _offsets + count;
            _buckets = _next + count;
            new Span<int>(o, count).CopyTo(new Span<int>(_offsets, count));
        }
        finally
        {
            offsets.Dispose();
        }
        // From the last FUNC to the first, each put at its chain's head: a chain lists a name's FUNCs by id.
        new Span<int>(_buckets, _bucketMask + 1).Fill(-1);
        for (int i = _typeCount - 1; i >= 0; i--)
        {
            if (BtfFormat.KindOf(U32(_offsets[i] + 4)) != BtfKind.Func) continue;
            ref int head = ref _buckets[Hash(StringBytes(U32(_offsets[i]))) & _bucketMask];
            _next[i] = head;
            head = i;
        }
    }

    /// <summary>Parses a complete (base) BTF blob, or a split one on top of <paramref name="baseTable"/> (a copy of the bytes is kept).</summary>
    public static BtfTypeTable Parse(byte[] data, BtfTypeTable? baseTable = null) => new(NativeBuffer.CopyOf(data), baseTable);

    private static readonly Lazy<BtfTypeTable> RunningKernel = new(() => Load(Capture.KernelChecks.BtfPath));

    /// <summary>
    /// The running kernel's BTF (/sys/kernel/btf/vmlinux, ~5 MB), parsed once per process and shared by every reader
    /// (return kinds, --args, indirect-call targets, probe, the fexit backend's ids): a table is read-only once built.
    /// Throws as <see cref="Load"/>.
    /// </summary>
    public static BtfTypeTable Running => RunningKernel.Value;

    public static BtfTypeTable Load(string path, BtfTypeTable? baseTable = null)
    {
        NativeBuffer data;
        try
        {
            data = NativeBuffer.ReadFile(path, new FileInfo(path).Length);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KernelAnalysisException($"kernel BTF is not readable: {path}: {e.Message} (a kernel without CONFIG_DEBUG_INFO_BTF has none)", e);
        }
        try
        {
            return new(data, baseTable);
        }
        catch
        {
            data.Dispose();
            throw;
        }
    }

    /// <summary>The highest type id (base types included).</summary>
    public int TypeCount => _firstId - 1 + _typeCount;

    /// <summary>The ids of every FUNC called <paramref name="name"/> (static functions of different files may share a name).</summary>
    public IReadOnlyList<int> FunctionsNamed(string name)
    {
        var bytes = Encoding.UTF8.GetBytes(name);
        List<int>? mine = null;
        for (int i = _buckets[Hash(bytes) & _bucketMask]; i >= 0; i = _next[i])
            if (StringBytes(U32(_offsets[i])).SequenceEqual(bytes)) (mine ??= new List<int>(1)).Add(_firstId + i);
        GC.KeepAlive(this);
        IReadOnlyList<int> own = mine ?? (IReadOnlyList<int>)[];
        if (_base == null) return own;
        var inBase = _base.FunctionsNamed(name);
        return inBase.Count == 0 ? own : own.Count == 0 ? inBase : [.. inBase, .. own];
    }

    /// <summary>The first FUNC called <paramref name="name"/> (the lowest id, as libbpf's btf__find_by_name_kind finds it), or -1.</summary>
    public int FirstFunctionNamed(string name) => FunctionsNamed(name) is { Count: > 0 } ids ? ids[0] : -1;

    public int FunctionCount => _functionCount + (_base?.FunctionCount ?? 0);

    /// <summary>Every FUNC name once, the base table's first, each table's in the order of their first FUNC.</summary>
    public IEnumerable<string> FunctionNames => _base == null ? OwnFunctionNames() : _base.FunctionNames.Concat(OwnFunctionNames());

    private List<string> OwnFunctionNames()
    {
        var names = new List<string>();
        for (int i = 0; i < _typeCount; i++)
        {
            if (BtfFormat.KindOf(U32(_offsets[i] + 4)) != BtfKind.Func) continue;
            var bytes = StringBytes(U32(_offsets[i]));
            // The first of its name: the chain's head, which lists the name's FUNCs by id.
            int first = _buckets[Hash(bytes) & _bucketMask];
            while (first >= 0 && !StringBytes(U32(_offsets[first])).SequenceEqual(bytes)) first = _next[first];
            if (first == i) names.Add(Encoding.UTF8.GetString(bytes));
        }
        GC.KeepAlive(this);
        return names;
    }

    public BtfKind KindOf(int id) => id == 0 ? BtfKind.Unknown : BtfFormat.KindOf(Info(id));
    public int VlenOf(int id) => BtfFormat.VlenOf(Info(id));
    public bool KindFlagOf(int id) => (Info(id) >> 31) != 0;
    public string NameOf(int id) => id == 0 ? "" : Owner(id).StringAt(Owner(id).U32(Owner(id).Offset(id)));

    /// <summary>The size (INT, STRUCT, UNION, ENUM, FLOAT, DATASEC) or the referenced type id (PTR, TYPEDEF, CONST, FUNC, FUNC_PROTO...).</summary>
    public uint SizeOrTypeOf(int id) { var o = Owner(id); return o.U32(o.Offset(id) + 8); }

    /// <summary>The 32-bit word after an INT record: encoding (bits 24-27: 1 signed, 2 char, 4 bool), offset, bits.</summary>
    public uint IntEncodingOf(int id)
    {
        if (KindOf(id) != BtfKind.Int) throw new ArgumentException($"type {id} is not an INT");
        var o = Owner(id);
        return o.U32(o.Offset(id) + 12);
    }

    /// <summary>The type id of parameter <paramref name="index"/> of a FUNC_PROTO.</summary>
    public int ParameterTypeOf(int protoId, int index)
    {
        if (KindOf(protoId) != BtfKind.FuncProto || (uint)index >= (uint)VlenOf(protoId))
            throw new ArgumentOutOfRangeException(nameof(index));
        var o = Owner(protoId);
        return (int)o.U32(o.Offset(protoId) + 12 + index * 8 + 4);
    }

    /// <summary>The name of parameter <paramref name="index"/> of a FUNC_PROTO ("" when the BTF has none).</summary>
    public string ParameterNameOf(int protoId, int index)
    {
        if (KindOf(protoId) != BtfKind.FuncProto || (uint)index >= (uint)VlenOf(protoId))
            throw new ArgumentOutOfRangeException(nameof(index));
        var o = Owner(protoId);
        return o.StringAt(o.U32(o.Offset(protoId) + 12 + index * 8));
    }

    /// <summary>The members of a STRUCT or UNION: name, type id, offset and size in bits (size 0: not a bit field).</summary>
    public IReadOnlyList<(string Name, int Type, int BitOffset, int BitSize)> MembersOf(int id)
    {
        if (KindOf(id) is not (BtfKind.Struct or BtfKind.Union)) return [];
        var o = Owner(id);
        int at = o.Offset(id) + 12;
        bool kflag = KindFlagOf(id);
        var list = new List<(string, int, int, int)>(VlenOf(id));
        for (int i = 0; i < VlenOf(id); i++, at += 12)
        {
            uint off = o.U32(at + 8);
            list.Add((o.StringAt(o.U32(at)), (int)o.U32(at + 4), (int)(kflag ? off & 0xffffff : off), kflag ? (int)(off >> 24) : 0));
        }
        return list;
    }

    /// <summary>Follows TYPEDEF, CONST, VOLATILE, RESTRICT and TYPE_TAG to the underlying type id.</summary>
    public int Resolve(int id)
    {
        for (int hops = 0; hops < 64 && id != 0; hops++)
        {
            switch (KindOf(id))
            {
                case BtfKind.Typedef or BtfKind.Const or BtfKind.Volatile or BtfKind.Restrict or BtfKind.TypeTag:
                    id = (int)SizeOrTypeOf(id);
                    break;
                default:
                    return id;
            }
        }
        return id;
    }

    /// <summary>A C-like spelling of a type for messages: "long", "ssize_t", "struct file *".</summary>
    public string Describe(int id, int depth = 0)
    {
        if (id == 0) return "void";
        if (depth > 16) return "...";
        string name = NameOf(id);
        return KindOf(id) switch
        {
            BtfKind.Int or BtfKind.Float or BtfKind.Typedef => name,
            BtfKind.Struct => $"struct {name}",
            BtfKind.Union => $"union {name}",
            BtfKind.Enum or BtfKind.Enum64 => $"enum {name}",
            BtfKind.Fwd => KindFlagOf(id) ? $"union {name}" : $"struct {name}",
            BtfKind.Ptr => Describe((int)SizeOrTypeOf(id), depth + 1) + " *",
            BtfKind.Const => "const " + Describe((int)SizeOrTypeOf(id), depth + 1),
            BtfKind.Volatile => "volatile " + Describe((int)SizeOrTypeOf(id), depth + 1),
            BtfKind.Restrict or BtfKind.TypeTag => Describe((int)SizeOrTypeOf(id), depth + 1),
            BtfKind.Array => Describe(ArrayElementOf(id), depth + 1) + "[]",
            BtfKind.FuncProto => "function",
            _ => name,
        };
    }

    private int ArrayElementOf(int id) { var o = Owner(id); return (int)o.U32(o.Offset(id) + 12); }

    private uint Info(int id) { var o = Owner(id); return o.U32(o.Offset(id) + 4); }

    private BtfTypeTable Owner(int id)
    {
        if (id >= _firstId) return this;
        return _base ?? throw new ArgumentOutOfRangeException(nameof(id));
    }

    private int Offset(int id)
    {
        int index = id - _firstId;
        if ((uint)index >= (uint)_typeCount) throw new ArgumentOutOfRangeException(nameof(id), $"no BTF type {id}");
        return _offsets[index];
    }

    private string StringAt(uint offset)
    {
        string s = Encoding.UTF8.GetString(StringBytes(offset));
        GC.KeepAlive(this);
        return s;
    }

    /// <summary>The bytes of the string at <paramref name="offset"/> (a split table's offsets continue its base's); none beyond the strings.</summary>
    private ReadOnlySpan<byte> StringBytes(uint offset)
    {
        if (_base != null)
        {
            if (offset < (uint)_base._strLen) return _base.StringBytes(offset);
            offset -= (uint)_base._strLen;
        }
        if (offset >= (uint)_strLen) return default;
        var span = new ReadOnlySpan<byte>(_data + _strStart + offset, _strLen - (int)offset);
        int end = span.IndexOf((byte)0);
        return end < 0 ? span : span[..end];
    }

    /// <summary>FNV-1a over a name's bytes.</summary>
    private static int Hash(ReadOnlySpan<byte> name)
    {
        uint h = 2166136261;
        foreach (byte b in name) h = (h ^ b) * 16777619;
        return (int)(h & 0x7fffffff);
    }

    private uint U32(int pos) => (uint)pos <= (uint)(_length - 4) ? BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(_data + pos, 4))
        : throw new KernelAnalysisException($"BTF read beyond its data at byte {pos}");
}
