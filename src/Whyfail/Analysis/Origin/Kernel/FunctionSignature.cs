using System.Buffers.Binary;
using Whyfail.Decoding;
using Whyfail.Events;
using Whyfail.Capture;

namespace Whyfail.Analysis.Origin.Kernel;

/// <summary>What the entry probe reads behind an argument (the values of WF_PROBE_ARG_* in bpf/probe.h).</summary>
public enum ArgRead { Value = 0, Kernel = 1, String = 2 }

/// <summary>
/// A kernel function's parameters and return type from the kernel's BTF: what an entry probe reads
/// behind each argument (a pointer to a struct or union: its first bytes; a char pointer: the string),
/// and how an argument and the return value are printed (structs one level deep, strings, pointers as
/// addresses, errors by name). Shared by `whyfail probe` and --args (origin chains, graph error paths).
/// </summary>
public sealed class FunctionSignature
{
    public const int Registers = 6;
    private readonly BtfTypeTable? _btf;
    private readonly List<(string Name, int Type)> _params = [];
    private readonly int _returnType;

    public string Function { get; }

    private FunctionSignature(string function, BtfTypeTable? btf, int funcId)
    {
        Function = function;
        _btf = btf;
        if (btf == null || funcId == 0) return;
        int proto = (int)btf.SizeOrTypeOf(funcId);
        _returnType = (int)btf.SizeOrTypeOf(proto);
        for (int i = 0; i < btf.VlenOf(proto); i++)
            _params.Add((btf.ParameterNameOf(proto, i) is { Length: > 0 } n ? n : $"arg{i + 1}", btf.ParameterTypeOf(proto, i)));
    }

    /// <summary>The function's signature, or one with no parameters known when BTF does not have it.</summary>
    public static FunctionSignature For(string function, BtfTypeTable? btf) =>
        new(function, btf, btf?.FunctionsNamed(function).FirstOrDefault() ?? 0);

    public bool Known => _btf != null && _params.Count + _returnType > 0 || _params.Count > 0;

    public IReadOnlyList<string> ParameterNames => _params.Select(p => p.Name).ToList();

    /// <summary>What to read behind each of the six register arguments.</summary>
    public ArgRead[] Reads()
    {
        var kinds = new ArgRead[Registers];
        for (int i = 0; i < Math.Min(Registers, _params.Count); i++)
        {
            int t = _btf!.Resolve(_params[i].Type);
            if (_btf.KindOf(t) != BtfKind.Ptr) continue;
            int target = _btf.Resolve((int)_btf.SizeOrTypeOf(t));
            kinds[i] = _btf.KindOf(target) switch
            {
                BtfKind.Struct or BtfKind.Union => ArgRead.Kernel,
                BtfKind.Int when _btf.NameOf(target) is "char" or "unsigned char" or "signed char" => ArgRead.String,
                _ => ArgRead.Value,
            };
        }
        return kinds;
    }

    /// <summary>The arguments of a `whyfail probe` entry: registers, and the memory the entry probe read behind pointers.</summary>
    public IReadOnlyList<ProbeValue> Arguments(ProbeHit entry) =>
        Arguments([entry.Regs[5], entry.Regs[4], entry.Regs[1], entry.Regs[2], entry.Regs[8], entry.Regs[9]], entry.ReadOk, 0, entry.Data, 128);

    /// <summary>--args: an origin record's arguments (values at entry, memory read behind pointers at its return).</summary>
    public IReadOnlyList<ProbeValue> Arguments(OriginCallArgs a) => Arguments(a.Values, a.KernelRead, a.UserString, a.Data, a.Stride);

    /// <summary>
    /// The arguments from their register values (rdi rsi rdx rcx r8 r9) and the bytes behind them: slot i of
    /// <paramref name="data"/> (<paramref name="stride"/> bytes each) holds kernel memory when bit i of
    /// <paramref name="kernelRead"/> is set, a string from user memory when bit i of <paramref name="userString"/> is.
    /// A struct is shown from kernel memory only; a string from either.
    /// </summary>
    public IReadOnlyList<ProbeValue> Arguments(ulong[] values, uint kernelRead, uint userString, byte[] data, int stride)
    {
        var list = new List<ProbeValue>();
        var reads = Reads();
        for (int i = 0; i < Math.Min(Math.Min(Registers, values.Length), _params.Count); i++)
        {
            ulong v = values[i];
            int type = _params[i].Type;
            bool kernel = (kernelRead & (1u << i)) != 0, read = kernel || (userString & (1u << i)) != 0;
            var mem = data.AsSpan(i * stride, stride);
            string name = _params[i].Name;
            if (reads[i] == ArgRead.String && read)
            {
                int end = mem.IndexOf((byte)0);
                list.Add(new ProbeValue(name, StringEscaper.Quote(end < 0 ? mem : mem[..end], 64, end < 0)));
            }
            else if (reads[i] == ArgRead.Kernel && kernel)
            {
                int target = _btf!.Resolve((int)_btf.SizeOrTypeOf(_btf.Resolve(type)));
                list.Add(new ProbeValue(name, $"0x{v:x}", Members(target, mem)));
            }
            else
                list.Add(new ProbeValue(name, Scalar(type, v)));
        }
        return list;
    }

    /// <summary>The members of a struct read from kernel memory, one level deep (nested aggregates as {...}).</summary>
    private List<ProbeValue> Members(int structId, ReadOnlySpan<byte> mem)
    {
        var list = new List<ProbeValue>();
        foreach (var (name, type, bitOff, bitSize) in _btf!.MembersOf(structId))
        {
            int t = _btf.Resolve(type);
            int size = SizeOf(t);
            int byteOff = bitOff / 8;
            if (name.Length == 0) continue; // anonymous unions: their members are not named at this level
            if (bitSize == 0 && (byteOff + Math.Max(size, 1) > mem.Length))
            {
                list.Add(new ProbeValue("…", "(beyond the bytes read)"));
                break;
            }
            if (bitSize > 0)
            {
                if ((bitOff + bitSize + 7) / 8 > mem.Length) break;
                ulong raw = 0;
                for (int b = 0; b < bitSize; b++)
                    if ((mem[(bitOff + b) / 8] & (1 << ((bitOff + b) % 8))) != 0) raw |= 1UL << b;
                list.Add(new ProbeValue(name, raw.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                continue;
            }
            string text = _btf.KindOf(t) switch
            {
                BtfKind.Struct or BtfKind.Union => "{...}",
                BtfKind.Array => "[...]",
                _ when size is 1 or 2 or 4 or 8 => Scalar(type, Read(mem.Slice(byteOff, size))),
                _ => "?",
            };
            list.Add(new ProbeValue(name, text));
        }
        return list;
    }

    private static ulong Read(ReadOnlySpan<byte> b) => b.Length switch
    {
        1 => b[0],
        2 => BinaryPrimitives.ReadUInt16LittleEndian(b),
        4 => BinaryPrimitives.ReadUInt32LittleEndian(b),
        _ => BinaryPrimitives.ReadUInt64LittleEndian(b),
    };

    private int SizeOf(int t) => _btf!.KindOf(t) switch
    {
        BtfKind.Ptr => 8,
        BtfKind.Int or BtfKind.Enum or BtfKind.Enum64 or BtfKind.Struct or BtfKind.Union or BtfKind.Float => (int)_btf.SizeOrTypeOf(t),
        _ => 0,
    };

    private bool Signed(int t) => _btf!.KindOf(t) == BtfKind.Int && (_btf.IntEncodingOf(t) >> 24 & 1) != 0;

    /// <summary>A scalar of the given BTF type: signed integers in decimal, others in hex (pointers, flags).</summary>
    private string Scalar(int type, ulong v)
    {
        if (_btf == null) return $"0x{v:x}";
        int t = _btf.Resolve(type);
        int size = SizeOf(t);
        if (size is > 0 and < 8) v &= (1UL << (size * 8)) - 1;
        if (Signed(t) && size > 0)
            return SignExtend(v, size).ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (_btf.KindOf(t) == BtfKind.Int && v < 10) return v.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return $"0x{v:x}";
    }

    private static long SignExtend(ulong v, int size) => size >= 8 ? (long)v : (long)(v << (64 - size * 8)) >> (64 - size * 8);

    /// <summary>The return value as the return type reads it (a signed int sign-extended; pointers and unsigned as they are).</summary>
    public long Return(ulong rax)
    {
        if (_btf == null || _returnType == 0) return (long)rax;
        int t = _btf.Resolve(_returnType);
        int size = SizeOf(t);
        return Signed(t) && size > 0 ? SignExtend(rax, size) : size is > 0 and < 8 ? (long)(rax & ((1UL << (size * 8)) - 1)) : (long)rax;
    }

    /// <summary>"-22 (-EINVAL)", "0", "0xffff888003a5c000", "0xffffffffffffffea (ERR_PTR(-EINVAL))".</summary>
    public string ReturnText(ulong rax)
    {
        long r = Return(rax);
        bool pointer = _btf != null && _returnType != 0 && _btf.KindOf(_btf.Resolve(_returnType)) == BtfKind.Ptr;
        string? err = r is < 0 and >= -4095 && Errno.Name((int)-r) is { } n ? "-" + n : null;
        if (pointer) return err != null ? $"0x{rax:x} (ERR_PTR({err}))" : $"0x{rax:x}";
        return err != null ? $"{r} ({err})" : r.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
