using System.Buffers.Binary;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Whyfail.Analysis.Probe;

/// <summary>What a line probe saw: the registers, the stack from the stack pointer up, the memory reads asked for, the frame's CFA.</summary>
public sealed class MachineState(ulong[] regs, byte[] stack, int stackLength, ulong? cfa, IReadOnlyDictionary<(int Reg, long Off), ulong> reads)
{
    public ulong Reg(int n) => regs[n];
    public ulong? Cfa => cfa;

    /// <summary><paramref name="size"/> bytes at <paramref name="address"/>, when they are in the copied stack.</summary>
    public ulong? Stack(ulong address, int size)
    {
        ulong sp = regs[7];
        if (address < sp || address - sp + (ulong)size > (ulong)stackLength) return null;
        int at = (int)(address - sp);
        Span<byte> b = stackalloc byte[8];
        b.Clear();
        stack.AsSpan(at, size).CopyTo(b);
        return BinaryPrimitives.ReadUInt64LittleEndian(b);
    }

    public ulong? Read(int reg, long off) => reads.TryGetValue((reg, off), out var v) ? v : null;
}

/// <summary>
/// DWARF location expressions of the forms compilers use for kernel locals, evaluated against a line
/// probe's <see cref="MachineState"/>: a register (DW_OP_regN), memory at register + offset (DW_OP_bregN,
/// from the copied stack or a read the line's kprobe made), frame-relative memory (DW_OP_fbreg from the
/// CFA), a computed value (… DW_OP_stack_value) and constants. Anything else is shown as <c>?</c>, as
/// SystemTap does.
/// </summary>
public static class LocalValues
{
    public readonly record struct Op(string Name, int Reg, long Operand);

    private static readonly Regex OpText = new(@"^DW_OP_(reg|breg)(\d+)(?: \w+([+-]\d+)?)?$|^DW_OP_(fbreg|plus_uconst|lit|const\w*|deref|stack_value)(\d+)?(?: (\S+))?$", RegexOptions.Compiled);

    /// <summary>The operations of an expression as llvm-dwarfdump prints it; null when one is not understood.</summary>
    public static List<Op>? Parse(string expression)
    {
        var ops = new List<Op>();
        foreach (var part in expression.Split(", "))
        {
            var m = OpText.Match(part.Trim());
            if (!m.Success) return null;
            if (m.Groups[1].Success)
            {
                int reg = int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
                long off = m.Groups[3].Success ? long.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture) : 0;
                ops.Add(new Op(m.Groups[1].Value, reg, off));
                continue;
            }
            string name = m.Groups[4].Value;
            long operand = 0;
            if (name == "lit") operand = long.Parse(m.Groups[5].Value, CultureInfo.InvariantCulture);
            else if (m.Groups[6].Success && !TryNumber(m.Groups[6].Value, out operand)) return null;
            if (name.StartsWith("const", StringComparison.Ordinal) || name == "lit") name = "const";
            ops.Add(new Op(name, 0, operand));
        }
        return ops;
    }

    private static bool TryNumber(string s, out long v)
    {
        if (s.StartsWith("0x", StringComparison.Ordinal) && ulong.TryParse(s[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong u))
        {
            v = (long)u;
            return true;
        }
        return long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out v);
    }

    /// <summary>The memory read (register, offset, size) a line probe must make for this location, if it needs one.</summary>
    public static (int Reg, long Off, int Size)? ReadNeeded(string expression, int size)
    {
        var ops = Parse(expression);
        if (ops is null || ops.Count == 0 || ops[0].Name != "breg" || ops[0].Reg == 7) return null;
        if (ops.Count == 1 && size is > 0 and <= 8) return (ops[0].Reg, ops[0].Operand, size);
        if (ops.Count >= 2 && ops[1].Name == "deref") return (ops[0].Reg, ops[0].Operand, 8);
        return null;
    }

    /// <summary>The value of a variable of <paramref name="size"/> bytes (null: an aggregate) at this location, or null when unknown.</summary>
    public static ulong? Evaluate(string expression, int? size, MachineState st, bool frameBaseIsCfa)
    {
        var ops = Parse(expression);
        if (ops is null || ops.Count == 0) return null;
        var first = ops[0];
        ulong? Memory(ulong address, int n, int reg, long off) => st.Stack(address, n) ?? st.Read(reg, off);
        if (ops.Count == 1)
        {
            switch (first.Name)
            {
                case "reg" when first.Reg < 17:
                    return st.Reg(first.Reg);
                case "breg" when first.Reg < 17 && size is > 0 and <= 8:
                    return Memory(unchecked(st.Reg(first.Reg) + (ulong)first.Operand), size.Value, first.Reg, first.Operand);
                case "fbreg" when frameBaseIsCfa && st.Cfa is { } cfa && size is > 0 and <= 8:
                    return st.Stack(unchecked(cfa + (ulong)first.Operand), size.Value);
                case "const":
                    return (ulong)first.Operand;
                default:
                    return null;
            }
        }
        if (ops[^1].Name != "stack_value") return null;
        ulong? value = first.Name switch
        {
            "breg" when first.Reg < 17 => unchecked(st.Reg(first.Reg) + (ulong)first.Operand),
            "reg" when first.Reg < 17 => st.Reg(first.Reg),
            "const" => (ulong)first.Operand,
            _ => null,
        };
        for (int i = 1; i < ops.Count - 1 && value != null; i++)
        {
            value = ops[i].Name switch
            {
                "deref" when first.Name == "breg" && i == 1 => Memory(value.Value, 8, first.Reg, first.Operand),
                "plus_uconst" => unchecked(value + (ulong)ops[i].Operand),
                _ => null,
            };
        }
        return value;
    }

    /// <summary>A value as SystemTap's $$vars shows it: hex, cut to the type's size.</summary>
    public static string Format(ulong? value, int? size)
    {
        if (value is not { } v) return "?";
        if (size is > 0 and < 8) v &= (1UL << (size.Value * 8)) - 1;
        return $"0x{v:x}";
    }
}
