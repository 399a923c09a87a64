using Whyfail.Capture;

namespace Whyfail.Analysis.Origin.Kernel;

/// <summary>What a kernel function's return type is, as far as carrying an errno goes.</summary>
public enum BtfReturnKind
{
    /// <summary>No BTF FUNC of that name.</summary>
    Unknown,
    Void,
    /// <summary>An integer of 4 or more bytes (int, long, ssize_t, unsigned long...): can carry -errno.</summary>
    Integer,
    /// <summary>A pointer: can carry ERR_PTR(-errno).</summary>
    Pointer,
    Bool,
    /// <summary>char, u8, u16: too narrow for -errno.</summary>
    NarrowInteger,
    Enum,
    /// <summary>A struct or union returned by value, a float, or anything else.</summary>
    Other,
}

/// <summary>One BTF FUNC: its return type and parameter count (FUNC_PROTO vlen).</summary>
public readonly record struct BtfFunctionInfo(string Name, BtfReturnKind ReturnKind, string ReturnType, int ReturnSize, int ParameterCount)
{
    /// <summary>True for integers of at least 4 bytes and pointers: the only returns that can carry an errno.</summary>
    public bool CanCarryErrno => ReturnKind is BtfReturnKind.Integer or BtfReturnKind.Pointer;
}

/// <summary>
/// Kernel function return types from BTF (/sys/kernel/btf/vmlinux), to keep only functions whose
/// return value can say "this failed with errno E": int/long-sized integers and pointers, not void,
/// bool, char/u8/u16 or enums.
/// </summary>
public sealed class BtfReturnTypes
{
    public const string DefaultPath = Capture.KernelChecks.BtfPath;

    public BtfReturnTypes(BtfTypeTable types) => Types = types;

    public BtfTypeTable Types { get; }

    public static BtfReturnTypes Load(string path = DefaultPath) => new(path == DefaultPath ? BtfTypeTable.Running : BtfTypeTable.Load(path));

    public static BtfReturnTypes Parse(byte[] data) => new(BtfTypeTable.Parse(data));

    /// <summary>
    /// Every BTF FUNC called <paramref name="name"/>; a compiler suffix (".isra.0", ".constprop.0",
    /// ".part.0", ".cold") is dropped first, since BTF carries the source name.
    /// </summary>
    public IReadOnlyList<BtfFunctionInfo> Lookup(string name)
    {
        var ids = Types.FunctionsNamed(name);
        if (ids.Count == 0)
        {
            int dot = name.IndexOf('.');
            if (dot > 0) ids = Types.FunctionsNamed(name[..dot]);
        }
        if (ids.Count == 0) return [];
        var result = new BtfFunctionInfo[ids.Count];
        for (int i = 0; i < ids.Count; i++) result[i] = Describe(ids[i]);
        return result;
    }

    /// <summary>The first BTF FUNC of that name that can carry an errno, else the first one; false when none.</summary>
    public bool TryGet(string name, out BtfFunctionInfo info)
    {
        var all = Lookup(name);
        foreach (var f in all)
            if (f.CanCarryErrno) { info = f; return true; }
        info = all.Count > 0 ? all[0] : default;
        return all.Count > 0;
    }

    /// <summary>True when some BTF FUNC of that name returns an errno-capable type.</summary>
    public bool CanReturnErrno(string name) => TryGet(name, out var f) && f.CanCarryErrno;

    /// <summary>The parameter count (FUNC_PROTO vlen) of the function, or null when BTF does not know it.</summary>
    public int? ParameterCount(string name) => TryGet(name, out var f) ? f.ParameterCount : null;

    private BtfFunctionInfo Describe(int funcId)
    {
        var t = Types;
        string name = t.NameOf(funcId);
        int proto = (int)t.SizeOrTypeOf(funcId);
        if (t.KindOf(proto) != BtfKind.FuncProto)
            return new BtfFunctionInfo(name, BtfReturnKind.Unknown, "?", 0, 0);
        int vlen = t.VlenOf(proto);
        // A variadic function ends with a parameter of type 0 and no name.
        int parameters = vlen > 0 && t.ParameterTypeOf(proto, vlen - 1) == 0 ? vlen - 1 : vlen;
        int ret = (int)t.SizeOrTypeOf(proto);
        string spelled = t.Describe(ret);
        int resolved = t.Resolve(ret);
        var (kind, size) = Classify(resolved);
        return new BtfFunctionInfo(name, kind, spelled, size, parameters);
    }

    private (BtfReturnKind, int) Classify(int id)
    {
        var t = Types;
        if (id == 0) return (BtfReturnKind.Void, 0);
        switch (t.KindOf(id))
        {
            case BtfKind.Ptr:
                return (BtfReturnKind.Pointer, 8);
            case BtfKind.Int:
            {
                int size = (int)t.SizeOrTypeOf(id);
                uint encoding = (t.IntEncodingOf(id) >> 24) & 0xf;
                if ((encoding & 4) != 0) return (BtfReturnKind.Bool, size);
                return (size >= 4 ? BtfReturnKind.Integer : BtfReturnKind.NarrowInteger, size);
            }
            case BtfKind.Enum or BtfKind.Enum64:
                return (BtfReturnKind.Enum, (int)t.SizeOrTypeOf(id));
            default:
                return (BtfReturnKind.Other, 0);
        }
    }
}
