using System.Buffers.Binary;
using System.Globalization;

namespace Whyfail.Decoding;

/// <summary>strace's number notations.</summary>
internal static class Fmt
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>0 or 0x1f.</summary>
    public static string Hex(ulong v) => v == 0 ? "0" : "0x" + v.ToString("x", Inv);

    /// <summary>NULL or 0x7ffd1234.</summary>
    public static string Ptr(ulong v) => v == 0 ? "NULL" : "0x" + v.ToString("x", Inv);

    /// <summary>A pointer to an array (or buffer) of <paramref name="count"/> elements that was not captured: NULL, [] when empty, else its address, as strace shows it.</summary>
    public static string ArrayPtr(ulong addr, ulong count) => addr == 0 ? "NULL" : count == 0 ? "[]" : Ptr(addr);

    /// <summary>
    /// A device number as makedev(0x8, 0x1), taken apart as glibc's major() and minor() take a 64-bit dev_t; a 32-bit
    /// value (the kernel's new_encode_dev: mknod's dev, ustat's, loop_info's lo_device) comes apart the same way.
    /// </summary>
    public static string Makedev(ulong dev)
    {
        ulong major = ((dev >> 8) & 0xfff) | ((dev >> 32) & ~0xfffUL);
        ulong minor = (dev & 0xff) | ((dev >> 12) & ~0xffUL);
        return $"makedev({Hex((uint)major)}, {Hex((uint)minor)})";
    }

    public static string Dec(long v) => v.ToString(Inv);
    public static string UDec(ulong v) => v.ToString(Inv);
    public static string Int(ulong v) => ((int)(uint)v).ToString(Inv);
    public static string UInt(ulong v) => ((uint)v).ToString(Inv);

    /// <summary>A permission mode as strace prints it (C's "%#03o"): 0644, 04755, 022, 000.</summary>
    public static string Octal(ulong v) => ("0" + Convert.ToString((long)v, 8)).PadLeft(3, '0');

    /// <summary>uid_t/gid_t: unsigned, except that (uid_t)-1 ("no change") prints as -1.</summary>
    public static string Id(ulong v) => (uint)v == uint.MaxValue ? "-1" : ((uint)v).ToString(Inv);

    /// <summary>A mode with its file type, as strace's print_symbolic_mode_t: S_IFCHR|0600.</summary>
    public static string SymbolicMode(uint mode)
    {
        var bits = Xlat.Table("mode_bits");
        uint ifmt = (uint)bits["S_IFMT"];
        var parts = new List<string>();
        uint type = mode & ifmt;
        if (type != 0)
        {
            // A file type with no name: strace prints the whole mode in octal (0177777).
            var name = Xlat.Table("file_types").Lookup(type);
            if (name is null) return Octal(mode);
            parts.Add(name);
        }
        foreach (var name in (ReadOnlySpan<string>)["S_ISUID", "S_ISGID", "S_ISVTX"])
        {
            uint b = (uint)bits[name];
            if ((mode & b) != 0) parts.Add(name);
        }
        parts.Add(Octal(mode & 0x1ff));
        return string.Join('|', parts);
    }

    /// <summary>Joins struct fields as {a=1, b=2}.</summary>
    public static string Struct(IEnumerable<string> fields) => "{" + string.Join(", ", fields) + "}";

    /// <summary>A list as [a, b].</summary>
    public static string Array(IEnumerable<string> items) => "[" + string.Join(", ", items) + "]";

    /// <summary>strace's notation for an rlimit-like value: RLIM_INFINITY, 8192*1024, 100.</summary>
    public static string Rlim(ulong v, string infinity)
    {
        if (v == ulong.MaxValue) return infinity;
        if (v > 1024 && v % 1024 == 0) return UDec(v / 1024) + "*1024";
        return UDec(v);
    }
}

/// <summary>Bounds-checked little-endian reads from captured user memory; a short buffer never throws.</summary>
internal readonly struct Mem
{
    private readonly ReadOnlyMemory<byte> _m;

    public Mem(ReadOnlyMemory<byte> m) => _m = m;

    private ReadOnlySpan<byte> _b => _m.Span;
    public int Length => _m.Length;
    public ReadOnlySpan<byte> Span => _m.Span;
    public bool Has(int offset, int size) => offset >= 0 && size >= 0 && offset <= _b.Length - size;

    public byte U8(int o) => Has(o, 1) ? _b[o] : (byte)0;
    public ushort U16(int o) => Has(o, 2) ? BinaryPrimitives.ReadUInt16LittleEndian(_b[o..]) : (ushort)0;
    public ushort U16BE(int o) => Has(o, 2) ? BinaryPrimitives.ReadUInt16BigEndian(_b[o..]) : (ushort)0;
    public uint U32(int o) => Has(o, 4) ? BinaryPrimitives.ReadUInt32LittleEndian(_b[o..]) : 0;
    public uint U32BE(int o) => Has(o, 4) ? BinaryPrimitives.ReadUInt32BigEndian(_b[o..]) : 0;
    public int I32(int o) => (int)U32(o);
    public short I16(int o) => (short)U16(o);
    public ulong U64(int o) => Has(o, 8) ? BinaryPrimitives.ReadUInt64LittleEndian(_b[o..]) : 0;
    public long I64(int o) => (long)U64(o);

    /// <summary>A field of <paramref name="size"/> bytes (1, 2, 4 or 8), zero-extended.</summary>
    public ulong Field(int o, int size) => size switch
    {
        1 => U8(o),
        2 => U16(o),
        4 => U32(o),
        8 => U64(o),
        _ => 0,
    };

    public ReadOnlySpan<byte> Slice(int o, int len)
    {
        if (o < 0 || o >= _b.Length || len <= 0) return default;
        return _b.Slice(o, Math.Min(len, _b.Length - o));
    }

    /// <summary>The bytes of a fixed char array up to its first NUL.</summary>
    public ReadOnlySpan<byte> CString(int o, int len)
    {
        var s = Slice(o, len);
        int nul = s.IndexOf((byte)0);
        return nul >= 0 ? s[..nul] : s;
    }
}
