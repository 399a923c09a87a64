namespace Whyfail.Capture;

/// <summary>BTF type kinds (include/uapi/linux/btf.h).</summary>
public enum BtfKind : byte
{
    Unknown = 0, Int = 1, Ptr = 2, Array = 3, Struct = 4, Union = 5, Enum = 6, Fwd = 7, Typedef = 8,
    Volatile = 9, Const = 10, Restrict = 11, Func = 12, FuncProto = 13, Var = 14, Datasec = 15,
    Float = 16, DeclTag = 17, TypeTag = 18, Enum64 = 19,
}

/// <summary>
/// The raw BTF layout both of whyfail's readers walk: the small CO-RE BTF (<see cref="CoreBtf"/>) and the kernel-analysis
/// type table (Analysis/Origin/Kernel/BtfTypeTable). A header (magic, version, flags, hdr_len, then type and string
/// sections' offsets and lengths), type records of 12 bytes (name_off, info = vlen | kind &lt;&lt; 24 | kind_flag &lt;&lt; 31,
/// size-or-type) followed by kind-specific data, and the string section.
/// </summary>
public static class BtfFormat
{
    public const ushort Magic = 0xEB9F;

    /// <summary>The kind in a record's info word.</summary>
    public static BtfKind KindOf(uint info) => (BtfKind)((info >> 24) & 0x1f);

    /// <summary>The vlen in a record's info word (members, enumerators, parameters, variables).</summary>
    public static int VlenOf(uint info) => (int)(info & 0xffff);

    /// <summary>Bytes after the 12-byte common part of a record of this kind; null for a kind this reader does not know.</summary>
    public static int? Extra(BtfKind kind, int vlen) => kind switch
    {
        BtfKind.Int or BtfKind.Var or BtfKind.DeclTag => 4,
        BtfKind.Ptr or BtfKind.Fwd or BtfKind.Typedef or BtfKind.Volatile or BtfKind.Const or BtfKind.Restrict
            or BtfKind.Func or BtfKind.Float or BtfKind.TypeTag => 0,
        BtfKind.Array => 12,
        BtfKind.Struct or BtfKind.Union or BtfKind.Datasec or BtfKind.Enum64 => 12 * vlen,
        BtfKind.Enum or BtfKind.FuncProto => 8 * vlen,
        _ => null,
    };
}
