using Iced.Intel;
using Whyfail.Analysis.Origin.Source;
using Xunit;

namespace Whyfail.Tests.Source;

/// <summary>
/// How a kprobe hit on an error-site instruction is judged (--pinpoint): the machine code is real x86
/// decoded by Iced; the flags are what the CPU would hold after the comparison before the branch.
/// </summary>
public class SiteProbeTests
{
    private const ulong At = 0xffffffff81000000;
    private const ulong CF = 1, ZF = 1 << 6, SF = 1 << 7, OF = 1 << 11;

    private static Instruction Decode(params byte[] code)
    {
        var d = Iced.Intel.Decoder.Create(64, new ByteArrayCodeReader(code), At, DecoderOptions.None);
        d.Decode(out var i);
        return i;
    }

    [Fact]
    public void ABranchToTheErrorBlockIsTakenWhenItsConditionHolds()
    {
        // ja +0x100: after `cmp rcx, 0xffff7`, above = neither carry nor zero.
        var ja = Decode(0x0f, 0x87, 0x00, 0x01, 0x00, 0x00);
        var p = SiteProbe.At(ja, ja.NearBranch64, site: 4);
        Assert.Equal((4, ConditionCode.a, true), (p.Site, p.Condition, p.WhenTrue));
        Assert.True(p.Taken(0));
        Assert.False(p.Taken(CF));
        Assert.False(p.Taken(ZF));
    }

    [Fact]
    public void ABranchOverTheErrorBlockIsTakenWhenItsConditionFails()
    {
        // jne +0x10 falling through into the error block: the error when ZF is set.
        var jne = Decode(0x75, 0x10);
        var p = SiteProbe.At(jne, jne.NextIP, site: 0);
        Assert.False(p.WhenTrue);
        Assert.True(p.Taken(ZF));
        Assert.False(p.Taken(0));
    }

    [Fact]
    public void TheErrnoConstantItselfIsTakenWheneverItRuns()
    {
        // mov eax, -22 (EINVAL)
        var mov = Decode(0xb8, 0xea, 0xff, 0xff, 0xff);
        var p = SiteProbe.At(mov, mov.IP, site: 2);
        Assert.Equal(ConditionCode.None, p.Condition);
        Assert.True(p.Taken(0));
        Assert.True(p.Taken(CF | ZF | SF | OF));
    }

    [Theory]
    [InlineData(ConditionCode.l, SF, true)]
    [InlineData(ConditionCode.l, SF | OF, false)]
    [InlineData(ConditionCode.ge, SF | OF, true)]
    [InlineData(ConditionCode.le, ZF, true)]
    [InlineData(ConditionCode.g, OF, false)]
    [InlineData(ConditionCode.g, 0, true)]
    [InlineData(ConditionCode.be, CF, true)]
    [InlineData(ConditionCode.ae, CF, false)]
    [InlineData(ConditionCode.s, SF, true)]
    [InlineData(ConditionCode.np, 1 << 2, false)]
    public void ConditionsFollowTheIntelManual(ConditionCode cc, ulong flags, bool holds) =>
        Assert.Equal(holds, SiteProbe.Holds(cc, flags));
}
