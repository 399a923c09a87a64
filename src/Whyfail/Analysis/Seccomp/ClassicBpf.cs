using System.Buffers.Binary;
using System.Globalization;

namespace Whyfail.Analysis.Seccomp;

/// <summary>One classic BPF instruction (struct sock_filter: u16 code, u8 jt, u8 jf, u32 k).</summary>
public readonly record struct SockFilter(ushort Code, byte Jt, byte Jf, uint K)
{
    /// <summary>BPF_STMT(code, k).</summary>
    public static SockFilter Stmt(ushort code, uint k) => new(code, 0, 0, k);

    /// <summary>BPF_JUMP(code, k, jt, jf).</summary>
    public static SockFilter Jump(ushort code, uint k, byte jt, byte jf) => new(code, jt, jf, k);

    public override string ToString() => ClassicBpf.Disassemble(this);
}

/// <summary>A program <see cref="ClassicBpf"/> refuses to run, with the instruction and the reason.</summary>
public sealed class BpfProgramException(string message) : WhyfailException(message, ExitCodes.Internal);

/// <summary>
/// The input of a seccomp filter, struct seccomp_data (64 bytes, native byte order):
/// int nr; u32 arch; u64 instruction_pointer; u64 args[6].
/// </summary>
public readonly struct SeccompData
{
    public const int Size = 64;
    /// <summary>AUDIT_ARCH_X86_64 (EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE).</summary>
    public const uint AuditArchX86_64 = 0xc000003e;
    public const uint AuditArchI386 = 0x40000003;

    public int Nr { get; }
    public uint Arch { get; }
    public ulong InstructionPointer { get; }
    private readonly ulong a0, a1, a2, a3, a4, a5;

    public SeccompData(int nr, uint arch, ulong instructionPointer, ReadOnlySpan<ulong> args)
    {
        Nr = nr;
        Arch = arch;
        InstructionPointer = instructionPointer;
        Span<ulong> a = stackalloc ulong[6];
        args[..Math.Min(6, args.Length)].CopyTo(a);
        (a0, a1, a2, a3, a4, a5) = (a[0], a[1], a[2], a[3], a[4], a[5]);
    }

    public ulong Arg(int i) => i switch { 0 => a0, 1 => a1, 2 => a2, 3 => a3, 4 => a4, 5 => a5, _ => throw new ArgumentOutOfRangeException(nameof(i)) };

    /// <summary>The 32-bit word at byte offset <paramref name="offset"/> (a multiple of 4 below 64), as a load on x86_64 sees it.</summary>
    public uint Word(uint offset) => offset switch
    {
        0 => unchecked((uint)Nr),
        4 => Arch,
        8 => (uint)InstructionPointer,
        12 => (uint)(InstructionPointer >> 32),
        _ when offset >= 16 && offset < Size && offset % 4 == 0 =>
            (offset - 16) % 8 == 0 ? (uint)Arg((int)(offset - 16) / 8) : (uint)(Arg((int)(offset - 16) / 8) >> 32),
        _ => throw new ArgumentOutOfRangeException(nameof(offset)),
    };

    /// <summary>A name for the field a word offset belongs to: "nr", "arch", "instruction_pointer", "args[2]".</summary>
    public static string FieldName(int wordIndex) => wordIndex switch
    {
        0 => "nr",
        1 => "arch",
        2 or 3 => "instruction_pointer",
        >= 4 and < 16 => $"args[{(wordIndex - 4) / 2}]",
        _ => $"word {wordIndex}",
    };
}

/// <summary>What one run of a program returned, and which words of struct seccomp_data it loaded.</summary>
/// <param name="Value">The program's return value (for seccomp: SECCOMP_RET_* action | data).</param>
/// <param name="WordsRead">Bit i set: the program loaded the 32-bit word at byte offset 4*i (bit 0 nr, 1 arch,
/// 2–3 instruction_pointer, 4+2n / 5+2n low / high half of args[n]).</param>
/// <param name="Steps">Instructions executed.</param>
public readonly record struct BpfRun(uint Value, ushort WordsRead, int Steps)
{
    public bool ReadInstructionPointer => (WordsRead & 0b1100) != 0;
    public bool ReadArg(int n) => (WordsRead & (0b11 << (4 + 2 * n))) != 0;

    /// <summary>The fields the program looked at, in struct order ("arch", "nr", "args[1]").</summary>
    public IReadOnlyList<string> FieldsRead
    {
        get
        {
            var list = new List<string>();
            for (int i = 0; i < 16; i++)
                if ((WordsRead & (1 << i)) != 0 && SeccompData.FieldName(i) is var name && !list.Contains(name)) list.Add(name);
            return list;
        }
    }
}

/// <summary>
/// A classic BPF program in the dialect the kernel accepts for seccomp filters, checked like the kernel checks it
/// (bpf_check_classic and seccomp_check_filter) and run against a <see cref="SeccompData"/> like the kernel runs it
/// (after its conversion to eBPF: 32-bit A and X starting at 0, 16 scratch words, a division by X = 0 ends the program
/// with return value 0, register shift counts taken modulo 32). Programs are at most 4096 instructions and jump forward
/// only, so a run is bounded by the program length. Malformed programs are refused with <see cref="BpfProgramException"/>.
/// </summary>
public sealed partial class ClassicBpf
{
    /// <summary>BPF_MAXINSNS.</summary>
    public const int MaxInstructions = 4096;
    /// <summary>BPF_MEMWORDS: scratch memory cells M[0..15].</summary>
    public const int MemWords = 16;

    // The instruction classes and fields (LD, JMP, ABS, JEQ, K, ...): ClassicBpf.g.cs, generated by tools/gen-xlat from
    // linux/bpf_common.h and linux/filter.h.

    private readonly SockFilter[] insns;

    public IReadOnlyList<SockFilter> Instructions => insns;
    public int Length => insns.Length;

    private ClassicBpf(SockFilter[] insns) => this.insns = insns;

    /// <summary>A program from its instructions; throws <see cref="BpfProgramException"/> when the kernel would refuse it.</summary>
    public static ClassicBpf FromInstructions(IEnumerable<SockFilter> instructions)
    {
        var a = instructions.ToArray();
        if (Check(a) is { } error) throw new BpfProgramException(error);
        return new ClassicBpf(a);
    }

    /// <summary>A program from the bytes of a struct sock_filter array (8 bytes per instruction, little-endian).</summary>
    public static ClassicBpf Parse(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length % 8 != 0)
            throw new BpfProgramException($"a classic BPF program is a whole number of 8-byte instructions; got {bytes.Length} bytes");
        var a = new SockFilter[bytes.Length / 8];
        for (int i = 0; i < a.Length; i++)
        {
            var s = bytes.Slice(i * 8, 8);
            a[i] = new SockFilter(BinaryPrimitives.ReadUInt16LittleEndian(s), s[2], s[3], BinaryPrimitives.ReadUInt32LittleEndian(s[4..]));
        }
        return FromInstructions(a);
    }

    /// <summary>The bytes of the program as struct sock_filter[] (little-endian).</summary>
    public byte[] ToBytes()
    {
        var b = new byte[insns.Length * 8];
        for (int i = 0; i < insns.Length; i++)
        {
            var s = b.AsSpan(i * 8, 8);
            BinaryPrimitives.WriteUInt16LittleEndian(s, insns[i].Code);
            s[2] = insns[i].Jt;
            s[3] = insns[i].Jf;
            BinaryPrimitives.WriteUInt32LittleEndian(s[4..], insns[i].K);
        }
        return b;
    }

    /// <summary>Why the kernel would refuse <paramref name="p"/> as a seccomp filter, or null when it is acceptable.</summary>
    public static string? Check(ReadOnlySpan<SockFilter> p)
    {
        int n = p.Length;
        if (n == 0) return "the program is empty";
        if (n > MaxInstructions) return $"the program has {n} instructions; at most {MaxInstructions} are allowed";
        for (int pc = 0; pc < n; pc++)
        {
            var f = p[pc];
            string At(string why) => $"instruction {pc} ({Disassemble(f)}): {why}";
            switch (f.Code)
            {
                case LD | W | ABS:
                    if (f.K >= SeccompData.Size || (f.K & 3) != 0)
                        return At($"loads offset {f.K}, which is not an aligned word of the {SeccompData.Size}-byte struct seccomp_data");
                    break;
                case LD | W | LEN:
                case LDX | W | LEN:
                case LD | IMM:
                case LDX | IMM:
                case MISC | TAX:
                case MISC | TXA:
                case RET | K:
                case RET | A:
                case ALU | NEG:
                    break;
                case LD | MEM:
                case LDX | MEM:
                case ST:
                case STX:
                    if (f.K >= MemWords) return At($"scratch memory has {MemWords} cells, not {f.K + 1}");
                    break;
                case ALU | ADD | K: case ALU | ADD | X:
                case ALU | SUB | K: case ALU | SUB | X:
                case ALU | MUL | K: case ALU | MUL | X:
                case ALU | OR | K: case ALU | OR | X:
                case ALU | AND | K: case ALU | AND | X:
                case ALU | XOR | K: case ALU | XOR | X:
                case ALU | LSH | X: case ALU | RSH | X:
                case ALU | DIV | X: case ALU | MOD | X:
                    break;
                case ALU | DIV | K:
                case ALU | MOD | K:
                    if (f.K == 0) return At("divides by the constant 0");
                    break;
                case ALU | LSH | K:
                case ALU | RSH | K:
                    if (f.K >= 32) return At($"shifts a 32-bit value by {f.K}");
                    break;
                case JMP | JA:
                    if (f.K >= (uint)(n - pc - 1)) return At($"jumps {f.K} instructions ahead, past the end of the program");
                    break;
                case JMP | JEQ | K: case JMP | JEQ | X:
                case JMP | JGT | K: case JMP | JGT | X:
                case JMP | JGE | K: case JMP | JGE | X:
                case JMP | JSET | K: case JMP | JSET | X:
                    if (pc + f.Jt + 1 >= n || pc + f.Jf + 1 >= n) return At("a branch jumps past the end of the program");
                    break;
                default:
                    return At($"opcode 0x{f.Code:x2} is not allowed in a seccomp filter");
            }
        }
        if (p[n - 1].Code is not (RET | K) and not (RET | A))
            return $"the last instruction ({Disassemble(p[n - 1])}) is not a return";
        return CheckLoadsAndStores(p);
    }

    // As the kernel's check_load_and_stores: every path to a load from M[k] must have stored M[k] first.
    private static string? CheckLoadsAndStores(ReadOnlySpan<SockFilter> p)
    {
        var masks = new ushort[p.Length];
        Array.Fill(masks, (ushort)0xffff);
        ushort valid = 0;
        for (int pc = 0; pc < p.Length; pc++)
        {
            valid &= masks[pc];
            var f = p[pc];
            switch (f.Code)
            {
                case ST:
                case STX:
                    valid |= (ushort)(1 << (int)f.K);
                    break;
                case LD | MEM:
                case LDX | MEM:
                    if ((valid & (1 << (int)f.K)) == 0)
                        return $"instruction {pc} ({Disassemble(f)}): reads scratch cell M[{f.K}] before anything stored it";
                    break;
                case JMP | JA:
                    masks[pc + 1 + (int)f.K] &= valid;
                    valid = 0xffff;
                    break;
                case JMP | JEQ | K: case JMP | JEQ | X:
                case JMP | JGT | K: case JMP | JGT | X:
                case JMP | JGE | K: case JMP | JGE | X:
                case JMP | JSET | K: case JMP | JSET | X:
                    masks[pc + 1 + f.Jt] &= valid;
                    masks[pc + 1 + f.Jf] &= valid;
                    valid = 0xffff;
                    break;
            }
        }
        return null;
    }

    /// <summary>Runs the program on <paramref name="data"/>.</summary>
    public BpfRun Run(in SeccompData data)
    {
        uint a = 0, x = 0;
        Span<uint> m = stackalloc uint[MemWords];
        ushort read = 0;
        int steps = 0;
        int pc = 0;
        while (true)
        {
            // Jumps only go forward and the last instruction returns, so this cannot loop; guard anyway.
            if ((uint)pc >= (uint)insns.Length || steps > insns.Length)
                throw new BpfProgramException($"the program ran off its end at instruction {pc}");
            var f = insns[pc++];
            steps++;
            switch (f.Code)
            {
                case LD | W | ABS:
                    a = data.Word(f.K);
                    read |= (ushort)(1 << (int)(f.K / 4));
                    break;
                case LD | W | LEN: a = SeccompData.Size; break;
                case LDX | W | LEN: x = SeccompData.Size; break;
                case LD | IMM: a = f.K; break;
                case LDX | IMM: x = f.K; break;
                case LD | MEM: a = m[(int)f.K]; break;
                case LDX | MEM: x = m[(int)f.K]; break;
                case ST: m[(int)f.K] = a; break;
                case STX: m[(int)f.K] = x; break;
                case MISC | TAX: x = a; break;
                case MISC | TXA: a = x; break;

                case ALU | ADD | K: a += f.K; break;
                case ALU | ADD | X: a += x; break;
                case ALU | SUB | K: a -= f.K; break;
                case ALU | SUB | X: a -= x; break;
                case ALU | MUL | K: a *= f.K; break;
                case ALU | MUL | X: a *= x; break;
                case ALU | DIV | K: a /= f.K; break;
                case ALU | DIV | X:
                    if (x == 0) return new BpfRun(0, read, steps);
                    a /= x;
                    break;
                case ALU | MOD | K: a %= f.K; break;
                case ALU | MOD | X:
                    if (x == 0) return new BpfRun(0, read, steps);
                    a %= x;
                    break;
                case ALU | OR | K: a |= f.K; break;
                case ALU | OR | X: a |= x; break;
                case ALU | AND | K: a &= f.K; break;
                case ALU | AND | X: a &= x; break;
                case ALU | XOR | K: a ^= f.K; break;
                case ALU | XOR | X: a ^= x; break;
                case ALU | LSH | K: a <<= (int)f.K; break;
                case ALU | LSH | X: a <<= (int)(x & 31); break;
                case ALU | RSH | K: a >>= (int)f.K; break;
                case ALU | RSH | X: a >>= (int)(x & 31); break;
                case ALU | NEG: a = unchecked(0u - a); break;

                case JMP | JA: pc += (int)f.K; break;
                case JMP | JEQ | K: pc += a == f.K ? f.Jt : f.Jf; break;
                case JMP | JEQ | X: pc += a == x ? f.Jt : f.Jf; break;
                case JMP | JGT | K: pc += a > f.K ? f.Jt : f.Jf; break;
                case JMP | JGT | X: pc += a > x ? f.Jt : f.Jf; break;
                case JMP | JGE | K: pc += a >= f.K ? f.Jt : f.Jf; break;
                case JMP | JGE | X: pc += a >= x ? f.Jt : f.Jf; break;
                case JMP | JSET | K: pc += (a & f.K) != 0 ? f.Jt : f.Jf; break;
                case JMP | JSET | X: pc += (a & x) != 0 ? f.Jt : f.Jf; break;

                case RET | K: return new BpfRun(f.K, read, steps);
                case RET | A: return new BpfRun(a, read, steps);

                default:
                    // Check refused it already; only reachable if the array was changed behind our back.
                    throw new BpfProgramException($"instruction {pc - 1}: opcode 0x{f.Code:x2} cannot be run");
            }
        }
    }

    /// <summary>One instruction in the syntax of the kernel's bpf_dbg / libseccomp's disassembler (roughly).</summary>
    public static string Disassemble(SockFilter f)
    {
        string Hex(uint v) => "0x" + v.ToString("x", CultureInfo.InvariantCulture);
        string Alu(string op) => (f.Code & X) != 0 ? $"{op} x" : $"{op} #{Hex(f.K)}";
        string J(string op) => $"{op} {((f.Code & X) != 0 ? "x" : "#" + Hex(f.K))}, +{f.Jt}, +{f.Jf}";
        return f.Code switch
        {
            LD | W | ABS => $"ld [{f.K}]" + (f.K < SeccompData.Size && f.K % 4 == 0 ? $" ; {SeccompData.FieldName((int)f.K / 4)}" : ""),
            LD | W | LEN => "ld #len",
            LDX | W | LEN => "ldx #len",
            LD | IMM => $"ld #{Hex(f.K)}",
            LDX | IMM => $"ldx #{Hex(f.K)}",
            LD | MEM => $"ld M[{f.K}]",
            LDX | MEM => $"ldx M[{f.K}]",
            ST => $"st M[{f.K}]",
            STX => $"stx M[{f.K}]",
            MISC | TAX => "tax",
            MISC | TXA => "txa",
            ALU | NEG => "neg",
            RET | A => "ret a",
            RET | K => $"ret #{Hex(f.K)} ; {SeccompRet.Describe(f.K)}",
            JMP | JA => $"ja +{f.K}",
            _ when (f.Code & 0x07) == ALU => (f.Code & 0xf0) switch
            {
                ADD => Alu("add"), SUB => Alu("sub"), MUL => Alu("mul"), DIV => Alu("div"), OR => Alu("or"), AND => Alu("and"),
                LSH => Alu("lsh"), RSH => Alu("rsh"), MOD => Alu("mod"), XOR => Alu("xor"), _ => $"alu 0x{f.Code:x2}",
            },
            _ when (f.Code & 0x07) == JMP => (f.Code & 0xf0) switch
            {
                JEQ => J("jeq"), JGT => J("jgt"), JGE => J("jge"), JSET => J("jset"), _ => $"jmp 0x{f.Code:x2}",
            },
            _ => $"0x{f.Code:x4} {f.Jt} {f.Jf} {Hex(f.K)}",
        };
    }

    /// <summary>The whole program, one instruction a line, numbered.</summary>
    public string Disassemble() => string.Join("\n", insns.Select((f, i) => $"{i,4}: {Disassemble(f)}"));
}
