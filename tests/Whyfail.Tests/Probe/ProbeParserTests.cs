using Whyfail.Analysis.Probe;
using Xunit;

namespace Whyfail.Tests.Probe;

/// <summary>The --when language, DWARF expressions as whyfail probe evaluates them, and their decoding from bytes.</summary>
[Trait("kernel", "host")]
public class ProbeParserTests
{
    [Theory]
    [InlineData("ret == -EINVAL", -22, true)]
    [InlineData("ret == -EINVAL", 0, false)]
    [InlineData("ret==-22", -22, true)]
    [InlineData("$return == -22", -22, true)]
    [InlineData("ret < 0", -1, true)]
    [InlineData("ret < 0", 0, false)]
    [InlineData("ret >= 0x10", 16, true)]
    [InlineData("ret == -EPERM || ret == -EACCES", -13, true)]
    [InlineData("ret == -EPERM || ret == -EACCES", -2, false)]
    [InlineData("ret != 0 && ret != -EAGAIN", -11, false)]
    [InlineData("ret != 0 && ret != -EAGAIN", -12, true)]
    [InlineData("(ret == -EINTR || ret == -ENOENT) && ret < 0", -2, true)]
    [InlineData("ret == -eperm", -1, true)]
    public void ConditionsTestTheReturnValue(string text, long ret, bool expected) =>
        Assert.Equal(expected, WhenCondition.Parse(text).Matches(ret));

    [Theory]
    [InlineData("ret == -EINVALL", "unknown error name 'EINVALL'")]
    [InlineData("ret = -22", "expected ==")]
    [InlineData("retval", "expected ==")]
    [InlineData("errno == 22", "must start with 'ret'")]
    [InlineData("(ret == 1", "missing ')'")]
    [InlineData("ret == 1 junk", "unexpected 'junk'")]
    [InlineData("ret ==", "expected a number or an error name")]
    public void BadConditionsSayWhatIsWrong(string text, string message)
    {
        var e = Assert.Throws<FormatException>(() => WhenCondition.Parse(text));
        Assert.Contains(message, e.Message);
    }

    private static MachineState State(ulong[] regs, byte[] stack, ulong? cfa = null, Dictionary<(int, long), ulong>? reads = null) =>
        new(regs, stack, stack.Length, cfa, reads ?? []);

    [Fact]
    public void RegisterStackFrameAndComputedLocations()
    {
        var regs = new ulong[17];
        regs[0] = 0x4000000000000008; // rax
        regs[4] = 0x1000;             // rsi
        regs[7] = 0x8000;             // rsp
        var stack = new byte[64];
        BitConverter.GetBytes(0x80UL).CopyTo(stack, 16);       // at rsp+16
        BitConverter.GetBytes(0xdeadbeefUL).CopyTo(stack, 40); // at cfa-16 with cfa = rsp+56
        var st = State(regs, stack, cfa: 0x8000 + 56, reads: new() { [(4, 24)] = 0x77 });

        Assert.Equal(0x4000000000000008UL, LocalValues.Evaluate("DW_OP_reg0 RAX", 8, st, true));
        Assert.Equal(0x80UL, LocalValues.Evaluate("DW_OP_breg7 RSP+16", 8, st, true));
        Assert.Equal(0xdeadbeefUL, LocalValues.Evaluate("DW_OP_fbreg -16", 4, st, true));
        Assert.Null(LocalValues.Evaluate("DW_OP_fbreg -16", 4, st, frameBaseIsCfa: false));
        Assert.Equal(0x77UL, LocalValues.Evaluate("DW_OP_breg4 RSI+24", 8, st, true));        // read by the line's kprobe
        Assert.Null(LocalValues.Evaluate("DW_OP_breg4 RSI+32", 8, st, true));                 // nobody read it: ?
        Assert.Equal(0x1008UL, LocalValues.Evaluate("DW_OP_breg4 RSI+8, DW_OP_stack_value", 8, st, true));
        Assert.Equal(0UL, LocalValues.Evaluate("DW_OP_lit0, DW_OP_stack_value", 4, st, true));
        Assert.Equal(0x10UL, LocalValues.Evaluate("DW_OP_constu 0x10, DW_OP_stack_value", 8, st, true));
        Assert.Null(LocalValues.Evaluate("DW_OP_entry_value(DW_OP_reg5 RDI), DW_OP_stack_value", 8, st, true));
        Assert.Equal("?", LocalValues.Format(null, 8));
        Assert.Equal("0xea", LocalValues.Format(0xffffffffffffffea, 1));
        Assert.Equal((4, 24L, 8), LocalValues.ReadNeeded("DW_OP_breg4 RSI+24", 8));
        Assert.Null(LocalValues.ReadNeeded("DW_OP_breg7 RSP+24", 8)); // the stack copy has it
        Assert.Null(LocalValues.ReadNeeded("DW_OP_reg0 RAX", 8));
    }

    [Fact]
    public void ExpressionBytesAreSpelledAsLlvmDwarfdumpDoes()
    {
        Assert.Equal("DW_OP_reg5 R", DwarfReader.Expression([0x55], 0, 1));
        Assert.Equal("DW_OP_breg4 R+8, DW_OP_stack_value", DwarfReader.Expression([0x74, 0x08, 0x9f], 0, 3));
        Assert.Equal("DW_OP_fbreg -40", DwarfReader.Expression([0x91, 0x58], 0, 2));
        Assert.Equal("DW_OP_lit3, DW_OP_stack_value", DwarfReader.Expression([0x33, 0x9f], 0, 2));
        Assert.Equal(0x1008UL, LocalValues.Evaluate(DwarfReader.Expression([0x74, 0x08, 0x9f], 0, 3), 8,
            State([0, 0, 0, 0, 0x1000, 0, 0, 0x8000, 0, 0, 0, 0, 0, 0, 0, 0, 0], []), true));
        Assert.Null(LocalValues.Parse(DwarfReader.Expression([0xa3, 0x01, 0x55, 0x9f], 0, 4))); // entry_value: ?
    }
}
