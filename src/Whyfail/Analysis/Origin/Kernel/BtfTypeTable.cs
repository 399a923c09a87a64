using System.Buffers.Binary;
using System.Text;
using Whyfail.Capture;

namespace Whyfail.Analysis.Origin.Kernel;

/// <summary>
/// A compact reader of raw BTF (the format of /sys/kernel/btf/vmlinux): the header, the type
/// section (each type: name_off, info = vlen | kind &lt;&lt; 24 | kind_flag &lt;&lt; 31, size-or-type, then
/// kind-specific trailing data) and the string section. Type ids start at 1 (0 is void).
/// Split BTF (modules) is read against its base table: ids and string offsets continue the base's.
/// </summary>
public sealed class BtfTypeTable
{
    private readonly byte[] _data;
    private readonly int _typeStart, _typeEnd, _strStart, _strLen;
    private readonly BtfTypeTable? _base;
    private readonly int _firstId;               // id of this table's first type
    private readonly int[] _offsets;             // byte offset of each type record in _data
    private readonly Dictionary<string, List<int>> _funcsByName = new(StringComparer.Ordinal);

    private BtfTypeTable(byte[] data, BtfTypeTable? baseTable)
    {
        _data = data;
        _base = baseTable;
        if (data.Length < 24) throw new KernelAnalysisException("BTF data is too short");
        ushort magic = BinaryPrimitives.ReadUInt16LittleEndian(data);
        if (magic != BtfFormat.Magic)
            throw new KernelAnalysisException(magic == 0x9FEB ? "big-endian BTF is not supported" : "not BTF data (bad magic)");
        uint hdrLen = U32(4);
        uint typeOff = U32(8), typeLen = U32(12), strOff = U32(16), strLen = U32(20);
        if (hdrLen < 24 || hdrLen + (ulong)typeOff + typeLen > (ulong)data.Length || hdrLen + (ulong)strOff + strLen > (ulong)data.Length)
            throw new KernelAnalysisException("BTF header points outside the data");
        _typeStart = (int)(hdrLen + typeOff);
        _typeEnd = _typeStart + (int)typeLen;
        _strStart = (int)(hdrLen + strOff);
        _strLen = (int)strLen;
        _firstId = baseTable == null ? 1 : baseTable.TypeCount + 1;

        var offsets = new List<int>(1 << 17);
        int pos = _typeStart;
        while (pos < _typeEnd)
        {
            if (pos + 12 > _typeEnd) throw new KernelAnalysisException($"BTF type section truncated at byte {pos}");
            offsets.Add(pos);
            uint info = U32(pos + 4);
            var kind = BtfFormat.KindOf(info);
            int extra = BtfFormat.Extra(kind, BtfFormat.VlenOf(info)) ?? throw new KernelAnalysisException($"unknown BTF kind {(int)kind} at byte {pos}");
            int id = _firstId + offsets.Count - 1;
            if (kind == BtfKind.Func)
            {
                string name = StringAt(U32(pos));
                if (!_funcsByName.TryGetValue(name, out var list)) _funcsByName[name] = list = new List<int>(1);
                list.Add(id);
            }
            pos += 12 + extra;
        }
        if (pos != _typeEnd) throw new KernelAnalysisException("BTF type section has a truncated last record");
        _offsets = offsets.ToArray();
    }

    /// <summary>Parses a complete (base) BTF blob, or a split one on top of <paramref name="baseTable"/>.</summary>
    public static BtfTypeTable Parse(byte[] data, BtfTypeTable? baseTable = null) => new(data, baseTable);

    private static readonly Lazy<BtfTypeTable> RunningKernel = new(() => Load(Capture.KernelChecks.BtfPath));

    /// <summary>
    /// The running kernel's BTF (/sys/kernel/btf/vmlinux, ~5 MB), parsed once per process and shared by every reader
    /// (return kinds, --args, indirect-call targets, probe): a table is read-only once built. Throws as <see cref="Load"/>.
    /// </summary>
    public static BtfTypeTable Running => RunningKernel.Value;

    public static BtfTypeTable Load(string path, BtfTypeTable? baseTable = null)
    {
        byte[] data;
        try
        {
            data = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KernelAnalysisException($"kernel BTF is not readable: {path}: {e.Message} (a kernel without CONFIG_DEBUG_INFO_BTF has none)", e);
        }
        return Parse(data, baseTable);
    }

    /// <summary>The highest type id (base types included).</summary>
    public int TypeCount => _firstId - 1 + _offsets.Length;

    /// <summary>The ids of every FUNC called <paramref name="name"/> (static functions of different files may share a name).</summary>
    public IReadOnlyList<int> FunctionsNamed(string name)
    {
        IReadOnlyList<int> mine = _funcsByName.TryGetValue(name, out var list) ? list : [];
        if (_base == null) return mine;
        var inBase = _base.FunctionsNamed(name);
        return inBase.Count == 0 ? mine : mine.Count == 0 ? inBase : [.. inBase, .. mine];
    }

    public int FunctionCount => _funcsByName.Values.Sum(l => l.Count) + (_base?.FunctionCount ?? 0);

    public IEnumerable<string> FunctionNames => _base == null ? _funcsByName.Keys : _base.FunctionNames.Concat(_funcsByName.Keys);

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
        if ((uint)index >= (uint)_offsets.Length) throw new ArgumentOutOfRangeException(nameof(id), $"no BTF type {id}");
        return _offsets[index];
    }

    private string StringAt(uint offset)
    {
        if (_base != null)
        {
            if (offset < (uint)_base._strLen) return _base.StringAt(offset);
            offset -= (uint)_base._strLen;
        }
        if (offset >= (uint)_strLen) return "";
        var span = _data.AsSpan(_strStart + (int)offset, _strLen - (int)offset);
        int end = span.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? span : span[..end]);
    }

    private uint U32(int pos) => BinaryPrimitives.ReadUInt32LittleEndian(_data.AsSpan(pos));
}
