using System.Buffers.Binary;
using Whyfail.Analysis.Seccomp;
using Xunit;
using static Whyfail.Analysis.Seccomp.ClassicBpf;

namespace Whyfail.Tests.Seccomp;

/// <summary>The classic BPF interpreter on seccomp filters written as struct sock_filter bytes, as the kernel holds them.</summary>
public sealed class ClassicBpfTests
{
    const uint ARCH_X86_64 = 0xc000003e, ARCH_I386 = 0x40000003;
    const uint RET_KILL_PROCESS = 0x80000000, RET_KILL_THREAD = 0, RET_TRAP = 0x00030000, RET_ERRNO = 0x00050000,
        RET_USER_NOTIF = 0x7fc00000, RET_TRACE = 0x7ff00000, RET_LOG = 0x7ffc0000, RET_ALLOW = 0x7fff0000;
    const int NR_IOCTL = 16, NR_SOCKET = 41, NR_CLONE = 56, NR_OPENAT = 257, NR_READ = 0;

    /// <summary>struct sock_filter[] bytes from (code, jt, jf, k) tuples.</summary>
    static byte[] Bytes(params (int Code, int Jt, int Jf, uint K)[] insns)
    {
        var b = new byte[insns.Length * 8];
        for (int i = 0; i < insns.Length; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(i * 8), (ushort)insns[i].Code);
            b[i * 8 + 2] = (byte)insns[i].Jt;
            b[i * 8 + 3] = (byte)insns[i].Jf;
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(i * 8 + 4), insns[i].K);
        }
        return b;
    }

    static SeccompData Call(int nr, params ulong[] args) => new(nr, ARCH_X86_64, 0, args);

    /// <summary>
    /// "Allow everything but openat, which fails with EPERM", as libseccomp lays it out for x86_64 (arch check,
    /// x32 check, then the rule), written out byte by byte.
    /// </summary>
    static readonly byte[] DenyOpenat =
    [
        0x20, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, // 0: ld [4]                  arch
        0x15, 0x00, 0x00, 0x05, 0x3e, 0x00, 0x00, 0xc0, // 1: jeq #0xc000003e, +0, +5
        0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // 2: ld [0]                  nr
        0x35, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x40, // 3: jge #0x40000000, +3, +0 (x32 calls)
        0x15, 0x00, 0x00, 0x01, 0x01, 0x01, 0x00, 0x00, // 4: jeq #257, +0, +1        openat
        0x06, 0x00, 0x00, 0x00, 0x01, 0x00, 0x05, 0x00, // 5: ret #0x00050001         ERRNO(EPERM)
        0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x7f, // 6: ret #0x7fff0000         ALLOW
        0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, // 7: ret #0x80000000         KILL_PROCESS
    ];

    [Fact]
    public void Deny_openat_filter()
    {
        var p = Parse(DenyOpenat);
        Assert.Equal(8, p.Length);

        var r = p.Run(Call(NR_OPENAT, unchecked((ulong)-100), 0x1000, 0));
        Assert.Equal(RET_ERRNO | 1, r.Value);
        Assert.Equal("ERRNO(1)", SeccompRet.Describe(r.Value));
        Assert.Equal(["nr", "arch"], r.FieldsRead);
        Assert.False(r.ReadInstructionPointer);

        Assert.Equal(RET_ALLOW, p.Run(Call(NR_READ, 0, 0x1000, 10)).Value);
        Assert.Equal(RET_KILL_PROCESS, p.Run(Call(0x40000000 | NR_OPENAT)).Value);
        Assert.Equal(RET_KILL_PROCESS, p.Run(new SeccompData(5, ARCH_I386, 0, [])).Value);
        Assert.Equal(DenyOpenat, p.ToBytes());
        Assert.Contains("jeq #0x101, +0, +1", p.Disassemble());
    }

    /// <summary>
    /// A container-runtime style filter that looks at arguments: ioctl(…, TIOCSTI) (both halves of the 64-bit args[1]),
    /// clone with CLONE_NEWUSER (jset), socket(AF_PACKET, …) with its own errno.
    /// </summary>
    static readonly byte[] ArgsFilter = Bytes(
        (LD | W | ABS, 0, 0, 4),                 // 0
        (JMP | JEQ | K, 1, 0, ARCH_X86_64),      // 1
        (RET | K, 0, 0, RET_KILL_PROCESS),       // 2
        (LD | W | ABS, 0, 0, 0),                 // 3: nr
        (JMP | JEQ | K, 0, 4, NR_IOCTL),         // 4 -> 5 / 9
        (LD | W | ABS, 0, 0, 28),                // 5: args[1] high
        (JMP | JEQ | K, 0, 9, 0),                // 6 -> 7 / 16
        (LD | W | ABS, 0, 0, 24),                // 7: args[1] low
        (JMP | JEQ | K, 8, 7, 0x5412),           // 8 -> 17 / 16   TIOCSTI
        (JMP | JEQ | K, 0, 3, NR_CLONE),         // 9 -> 10 / 13
        (LD | W | ABS, 0, 0, 16),                // 10: args[0] low (flags)
        (JMP | JSET | K, 5, 0, 0x10000000),      // 11 -> 17 / 12  CLONE_NEWUSER
        (JMP | JA, 0, 0, 3),                     // 12 -> 16
        (JMP | JEQ | K, 0, 2, NR_SOCKET),        // 13 -> 14 / 16
        (LD | W | ABS, 0, 0, 16),                // 14: args[0] (domain)
        (JMP | JEQ | K, 2, 0, 17),               // 15 -> 18 / 16  AF_PACKET
        (RET | K, 0, 0, RET_ALLOW),              // 16
        (RET | K, 0, 0, RET_ERRNO | 1),          // 17
        (RET | K, 0, 0, RET_ERRNO | 97));        // 18 EAFNOSUPPORT

    [Fact]
    public void Argument_checks()
    {
        var p = Parse(ArgsFilter);

        var tiocsti = p.Run(Call(NR_IOCTL, 0, 0x5412, 0x7ffc0000));
        Assert.Equal(RET_ERRNO | 1, tiocsti.Value);
        Assert.Equal(["nr", "arch", "args[1]"], tiocsti.FieldsRead);
        Assert.True(tiocsti.ReadArg(1));
        Assert.False(tiocsti.ReadArg(0));

        Assert.Equal(RET_ALLOW, p.Run(Call(NR_IOCTL, 0, 0x5401)).Value);                // TCGETS
        Assert.Equal(RET_ALLOW, p.Run(Call(NR_IOCTL, 0, 0x1_0000_5412)).Value);         // high half set: not TIOCSTI
        Assert.Equal(RET_ERRNO | 1, p.Run(Call(NR_CLONE, 0x10000000 | 17)).Value);       // CLONE_NEWUSER | SIGCHLD
        Assert.Equal(RET_ALLOW, p.Run(Call(NR_CLONE, 0x01200011)).Value);               // fork()-like flags
        Assert.Equal(RET_ERRNO | 97, p.Run(Call(NR_SOCKET, 17, 3, 0)).Value);
        Assert.Equal(RET_ALLOW, p.Run(Call(NR_SOCKET, 2, 1, 0)).Value);
        Assert.Equal(RET_KILL_PROCESS, p.Run(new SeccompData(NR_IOCTL, ARCH_I386, 0, [0, 0x5412])).Value);
    }

    static uint RunAlu(int op, uint a, uint operand, bool viaX)
    {
        var p = FromInstructions(viaX
            ? [SockFilter.Stmt(LD | IMM, a), SockFilter.Stmt(LDX | IMM, operand), SockFilter.Stmt((ushort)(ALU | op | X), 0), SockFilter.Stmt(RET | A, 0)]
            : [SockFilter.Stmt(LD | IMM, a), SockFilter.Stmt((ushort)(ALU | op | K), operand), SockFilter.Stmt(RET | A, 0)]);
        return p.Run(Call(0)).Value;
    }

    [Theory]
    [InlineData(ADD, 0xffffffffu, 2u, 1u)]
    [InlineData(SUB, 1u, 2u, 0xffffffffu)]
    [InlineData(MUL, 0x10000u, 0x10001u, 0x10000u)]
    [InlineData(DIV, 100u, 7u, 14u)]
    [InlineData(MOD, 100u, 7u, 2u)]
    [InlineData(OR, 0xf0u, 0x0fu, 0xffu)]
    [InlineData(AND, 0xf0u, 0x3cu, 0x30u)]
    [InlineData(XOR, 0xffu, 0x0fu, 0xf0u)]
    [InlineData(LSH, 1u, 31u, 0x80000000u)]
    [InlineData(RSH, 0x80000000u, 31u, 1u)]
    public void Alu_with_constant_and_register(int op, uint a, uint operand, uint expected)
    {
        Assert.Equal(expected, RunAlu(op, a, operand, viaX: false));
        Assert.Equal(expected, RunAlu(op, a, operand, viaX: true));
    }

    [Fact]
    public void Alu_edge_cases_as_the_kernel_runs_them()
    {
        // Division or modulo by a zero register ends the program with 0 (SECCOMP_RET_KILL_THREAD).
        Assert.Equal(RET_KILL_THREAD, RunAlu(DIV, 5, 0, viaX: true));
        Assert.Equal(RET_KILL_THREAD, RunAlu(MOD, 5, 0, viaX: true));
        // Register shift counts are taken modulo 32 (eBPF ALU32 semantics).
        Assert.Equal(2u, RunAlu(LSH, 1, 33, viaX: true));
        Assert.Equal(0x40000000u, RunAlu(RSH, 0x80000000, 33, viaX: true));
        var neg = FromInstructions([SockFilter.Stmt(LD | IMM, 5), SockFilter.Stmt(ALU | NEG, 0), SockFilter.Stmt(RET | A, 0)]);
        Assert.Equal(unchecked((uint)-5), neg.Run(Call(0)).Value);
    }

    [Fact]
    public void Memory_registers_and_length()
    {
        var p = FromInstructions(
        [
            SockFilter.Stmt(LD | W | ABS, 0),     // A = nr
            SockFilter.Stmt(ST, 3),               // M[3] = nr
            SockFilter.Stmt(LD | W | LEN, 0),     // A = 64
            SockFilter.Stmt(MISC | TAX, 0),       // X = 64
            SockFilter.Stmt(STX, 15),             // M[15] = 64
            SockFilter.Stmt(LD | MEM, 3),         // A = nr
            SockFilter.Stmt(LDX | MEM, 15),       // X = 64
            SockFilter.Stmt(ALU | ADD | X, 0),    // A = nr + 64
            SockFilter.Stmt(MISC | TAX, 0),
            SockFilter.Stmt(LDX | W | LEN, 0),    // X = 64
            SockFilter.Stmt(MISC | TXA, 0),       // A = 64
            SockFilter.Stmt(LDX | MEM, 3),
            SockFilter.Stmt(ALU | ADD | X, 0),    // A = 64 + nr
            SockFilter.Stmt(RET | A, 0),
        ]);
        Assert.Equal(64u + 83, p.Run(Call(83)).Value);
    }

    [Fact]
    public void Loads_of_the_instruction_pointer_and_high_halves()
    {
        var p = FromInstructions(
        [
            SockFilter.Stmt(LD | W | ABS, 12),    // instruction_pointer high
            SockFilter.Stmt(MISC | TAX, 0),
            SockFilter.Stmt(LD | W | ABS, 60),    // args[5] high
            SockFilter.Stmt(ALU | ADD | X, 0),
            SockFilter.Stmt(RET | A, 0),
        ]);
        var r = p.Run(new SeccompData(1, ARCH_X86_64, 0x0000_7f00_0000_1234, [0, 0, 0, 0, 0, 0x0000_0005_0000_0000]));
        Assert.Equal(0x7f05u, r.Value);
        Assert.True(r.ReadInstructionPointer);
        Assert.Equal(["instruction_pointer", "args[5]"], r.FieldsRead);
    }

    public static TheoryData<string, byte[]> Malformed => new()
    {
        { "is empty", [] },
        { "whole number of 8-byte", new byte[12] },
        { "at most 4096", Bytes(Enumerable.Repeat((RET | K, 0, 0, RET_ALLOW), 4097).ToArray()) },
        { "is not a return", Bytes((LD | W | ABS, 0, 0, 0)) },
        { "past the end of the program", Bytes((LD | W | ABS, 0, 0, 0), (JMP | JEQ | K, 0, 1, 1), (RET | K, 0, 0, 0)) },
        { "past the end of the program", Bytes((JMP | JA, 0, 0, 1), (RET | K, 0, 0, 0)) },
        { "not an aligned word", Bytes((LD | W | ABS, 0, 0, 3), (RET | A, 0, 0, 0)) },
        { "not an aligned word", Bytes((LD | W | ABS, 0, 0, 64), (RET | A, 0, 0, 0)) },
        { "opcode 0x30 is not allowed", Bytes((LD | B | ABS, 0, 0, 0), (RET | A, 0, 0, 0)) },
        { "opcode 0x40 is not allowed", Bytes((LD | W | IND, 0, 0, 0), (RET | A, 0, 0, 0)) },
        { "opcode 0x0e is not allowed", Bytes((RET | X, 0, 0, 0), (RET | A, 0, 0, 0)) },
        { "divides by the constant 0", Bytes((ALU | DIV | K, 0, 0, 0), (RET | A, 0, 0, 0)) },
        { "shifts a 32-bit value by 32", Bytes((ALU | LSH | K, 0, 0, 32), (RET | A, 0, 0, 0)) },
        { "16 cells, not 17", Bytes((ST, 0, 0, 16), (RET | A, 0, 0, 0)) },
        { "reads scratch cell M[2] before anything stored it", Bytes((LD | MEM, 0, 0, 2), (RET | A, 0, 0, 0)) },
        // Stored on one branch only, read where the branches meet.
        {
            "reads scratch cell M[1] before anything stored it",
            Bytes((LD | W | ABS, 0, 0, 0), (JMP | JEQ | K, 0, 1, 2), (ST, 0, 0, 1), (LDX | MEM, 0, 0, 1), (RET | A, 0, 0, 0))
        },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_programs_are_refused(string reason, byte[] program)
    {
        var e = Assert.Throws<BpfProgramException>(() => Parse(program));
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void Store_on_every_path_is_accepted()
    {
        var p = Parse(Bytes((LD | W | ABS, 0, 0, 0), (ST, 0, 0, 1), (JMP | JEQ | K, 0, 1, 2), (LD | IMM, 0, 0, 7), (LDX | MEM, 0, 0, 1), (RET | A, 0, 0, 0)));
        Assert.Equal(7u, p.Run(Call(2)).Value);
        Assert.Equal(3u, p.Run(Call(3)).Value);
    }

    [Fact]
    public void Verdict_takes_the_most_restrictive_action()
    {
        static ClassicBpf Ret(uint v) => FromInstructions([SockFilter.Stmt(RET | K, v)]);
        var d = Call(NR_OPENAT);

        var v = SeccompVerdict.Evaluate([Ret(RET_LOG), Ret(RET_ERRNO | 1), Ret(RET_TRAP | 4), Ret(RET_ALLOW)], d);
        Assert.Equal(RET_TRAP | 4, v.Ret);
        Assert.Equal(2, v.DecidingFilter);
        Assert.Equal("TRAP(4)", v.Describe());
        Assert.Null(v.Errno);

        // KILL_PROCESS (0x80000000) is negative as a signed action and beats KILL_THREAD (0).
        Assert.Equal(RET_KILL_PROCESS, SeccompVerdict.Evaluate([Ret(RET_KILL_THREAD), Ret(RET_KILL_PROCESS)], d).Ret);
        Assert.Equal(RET_KILL_PROCESS, SeccompVerdict.Evaluate([Ret(RET_KILL_PROCESS), Ret(RET_KILL_THREAD)], d).Ret);
        // ERRNO < USER_NOTIF < TRACE < LOG
        Assert.Equal(RET_USER_NOTIF, SeccompVerdict.Evaluate([Ret(RET_TRACE), Ret(RET_USER_NOTIF), Ret(RET_LOG)], d).Ret);
        Assert.Equal(RET_ERRNO | 5, SeccompVerdict.Evaluate([Ret(RET_TRACE), Ret(RET_ERRNO | 5)], d).Ret);

        // Same action: data is ignored and the newest filter (walked first) keeps its value — as the kernel does
        // (tests/programs/seccomp_deny.c checks this against the real kernel: mkdir gets EACCES from filter 2).
        var same = SeccompVerdict.Evaluate([Ret(RET_ERRNO | 1), Ret(RET_ERRNO | 13)], d);
        Assert.Equal(RET_ERRNO | 13, same.Ret);
        Assert.Equal(1, same.DecidingFilter);
        Assert.Equal(13, same.Errno);

        var allow = SeccompVerdict.Evaluate([Ret(RET_ALLOW), Ret(RET_ALLOW)], d);
        Assert.Equal(SeccompAction.Allow, allow.Action);
        Assert.Equal(-1, allow.DecidingFilter);
        Assert.Empty(allow.DecidingFields);

        // ERRNO data is capped at MAX_ERRNO; an undefined action sorts by its value (and kills).
        Assert.Equal(4095, SeccompVerdict.Evaluate([Ret(RET_ERRNO | 0xffff)], d).Errno);
        var unknown = SeccompVerdict.Evaluate([Ret(RET_TRAP), Ret(0x00010000)], d);
        Assert.Equal(1, unknown.DecidingFilter);
        Assert.Null(unknown.Action);
        Assert.Equal("unknown action 0x00010000", unknown.Describe());
    }

    [Fact]
    public void Verdict_names_what_the_deciding_filter_read()
    {
        var v = SeccompVerdict.Evaluate([Parse(DenyOpenat), Parse(ArgsFilter)], Call(NR_IOCTL, 3, 0x5412));
        Assert.Equal(1, v.DecidingFilter);
        Assert.Equal(["nr", "arch", "args[1]"], v.DecidingFields);
        Assert.False(v.ReadInstructionPointer);

        var ip = FromInstructions([SockFilter.Stmt(LD | W | ABS, 8), SockFilter.Stmt(RET | K, RET_ALLOW)]);
        Assert.True(SeccompVerdict.Evaluate([ip, Parse(DenyOpenat)], Call(NR_OPENAT)).ReadInstructionPointer);
    }

    [Fact]
    public void Status_lines()
    {
        var s = SeccompStatus.Parse("Name:\tx\nTgid:\t10\nPPid:\t1\nTracerPid:\t0\nNoNewPrivs:\t1\nSeccomp:\t2\nSeccomp_filters:\t3\n");
        Assert.Equal(new SeccompStatus(2, 3, 0, 10, 1), s);
        Assert.Null(SeccompStatus.Parse("Seccomp:\t0\n").FilterCount);
    }

    /// <summary>
    /// The opcode fields are ClassicBpf.g.cs, written by tools/gen-xlat with xlat.tsv's cbpf_* tables: each constant is the
    /// table's value of its BPF_ name, and each name of those tables has its constant.
    /// </summary>
    [Fact]
    public void OpcodeFieldsAreTheHeadersValues()
    {
        var consts = typeof(ClassicBpf).GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(ushort))
            .ToDictionary(f => "BPF_" + f.Name, f => (ulong)(ushort)f.GetRawConstantValue()!);
        var tables = new[] { "cbpf_class", "cbpf_size", "cbpf_mode", "cbpf_op_alu", "cbpf_op_jmp", "cbpf_src", "cbpf_rval", "cbpf_miscop" };
        var named = new HashSet<string>();
        foreach (var t in tables)
            foreach (var (name, value) in Whyfail.Decoding.Xlat.Table(t).Entries)
            {
                Assert.True(consts.TryGetValue(name, out var v), $"{t} {name}: no constant");
                Assert.Equal(value, v);
                named.Add(name);
            }
        Assert.Equal(named.Order(), consts.Keys.Order());
        Assert.Equal(8, Whyfail.Decoding.Xlat.Table("cbpf_class").Entries.Count); // the headers gave every class
    }
}
