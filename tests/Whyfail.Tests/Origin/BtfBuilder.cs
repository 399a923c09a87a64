using System.Buffers.Binary;
using System.Text;

namespace Whyfail.Tests.Origin;

/// <summary>Builds raw BTF blobs (header, types, strings) for reader tests.</summary>
internal sealed class BtfBuilder
{
    private readonly MemoryStream _types = new();
    private readonly MemoryStream _strings = new();
    private readonly Dictionary<string, uint> _stringOffsets = new();
    private int _count;

    public BtfBuilder() => _strings.WriteByte(0);

    private uint Str(string s)
    {
        if (s.Length == 0) return 0;
        if (_stringOffsets.TryGetValue(s, out uint off)) return off;
        off = (uint)_strings.Position;
        _strings.Write(Encoding.UTF8.GetBytes(s + "\0"));
        _stringOffsets[s] = off;
        return off;
    }

    private int Type(string name, int kind, int vlen, uint sizeOrType, bool kindFlag = false, params uint[] extra)
    {
        Span<byte> b = stackalloc byte[12];
        BinaryPrimitives.WriteUInt32LittleEndian(b, Str(name));
        BinaryPrimitives.WriteUInt32LittleEndian(b[4..], (uint)vlen | (uint)kind << 24 | (kindFlag ? 1u << 31 : 0));
        BinaryPrimitives.WriteUInt32LittleEndian(b[8..], sizeOrType);
        _types.Write(b);
        var w = new byte[4];
        foreach (var word in extra)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(w, word);
            _types.Write(w);
        }
        return ++_count;
    }

    public const uint Signed = 1, Char = 2, Bool = 4;
    public int Int(string name, int size, uint encoding) => Type(name, 1, 0, (uint)size, false, encoding << 24 | (uint)(size * 8));
    public int Ptr(int to) => Type("", 2, 0, (uint)to);
    public int Struct(string name, int size) => Type(name, 4, 0, (uint)size);
    /// <summary>A struct whose members are laid out 8 bytes apart.</summary>
    public int Struct(string name, params (string Name, int Type)[] members) =>
        Type(name, 4, members.Length, (uint)(8 * members.Length), false, members.SelectMany((m, i) => new[] { Str(m.Name), (uint)m.Type, (uint)(64 * i) }).ToArray());
    public int Enum(string name, params string[] values)
    {
        var extra = new List<uint>();
        for (int i = 0; i < values.Length; i++) { extra.Add(Str(values[i])); extra.Add((uint)i); }
        return Type(name, 6, values.Length, 4, false, extra.ToArray());
    }
    public int Typedef(string name, int to) => Type(name, 8, 0, (uint)to);
    public int Volatile(int to) => Type("", 9, 0, (uint)to);
    public int Const(int to) => Type("", 10, 0, (uint)to);
    public int Array(int element, int count) => Type("", 3, 0, 0, false, (uint)element, (uint)element, (uint)count);
    public int FuncProto(int ret, params int[] parameters)
    {
        var extra = new List<uint>();
        foreach (var p in parameters) { extra.Add(Str(p == 0 ? "" : "p")); extra.Add((uint)p); }
        return Type("", 13, parameters.Length, (uint)ret, false, extra.ToArray());
    }
    public int Func(string name, int proto) => Type(name, 12, 0, (uint)proto);
    public int Var(string name, int type) => Type(name, 14, 0, (uint)type, false, 1);

    public byte[] Build()
    {
        var types = _types.ToArray();
        var strings = _strings.ToArray();
        var data = new byte[24 + types.Length + strings.Length];
        BinaryPrimitives.WriteUInt16LittleEndian(data, 0xEB9F);
        data[2] = 1;
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(4), 24);
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(8), 0);
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(12), (uint)types.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(16), (uint)types.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(20), (uint)strings.Length);
        types.CopyTo(data, 24);
        strings.CopyTo(data, 24 + types.Length);
        return data;
    }
}
