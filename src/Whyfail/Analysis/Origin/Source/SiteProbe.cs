using Iced.Intel;

namespace Whyfail.Analysis.Origin.Source;

/// <summary>
/// An instruction whose execution shows that an error site was taken, for a kprobe (--pinpoint):
/// the instruction that produces the errno, or — when many checks share one "return -E…" block — each
/// branch into that block. A kprobe fires before its instruction runs, whether a conditional branch
/// is then taken or not, so a branch carries its condition, which the flags register at that moment
/// decides (<see cref="Taken"/>).
/// </summary>
/// <param name="Address">The instruction's address in the vmlinux (link address).</param>
/// <param name="Site">Index of the site in its <see cref="ErrorSiteResult.Sites"/>.</param>
/// <param name="Condition">The branch condition; <see cref="ConditionCode.None"/>: reaching the instruction is enough.</param>
/// <param name="WhenTrue">For a branch: the site is taken when the condition holds (the branch goes to the error
/// block), else when it does not (the error block follows the branch).</param>
public sealed record SiteProbe(ulong Address, int Site, ConditionCode Condition, bool WhenTrue)
{
    /// <summary>The probe point for instruction <paramref name="i"/>, standing for site <paramref name="site"/> whose error block starts at <paramref name="block"/>.</summary>
    public static SiteProbe At(in Instruction i, ulong block, int site)
    {
        if (i.FlowControl == FlowControl.ConditionalBranch && i.ConditionCode != ConditionCode.None && i.Op0Kind == OpKind.NearBranch64)
        {
            if (i.NearBranch64 == block) return new SiteProbe(i.IP, site, i.ConditionCode, true);
            if (i.NextIP == block) return new SiteProbe(i.IP, site, i.ConditionCode, false);
        }
        return new SiteProbe(i.IP, site, ConditionCode.None, true);
    }

    /// <summary>Whether the site was taken, given the flags register (RFLAGS) when the kprobe fired.</summary>
    public bool Taken(ulong flags) => Condition == ConditionCode.None || Holds(Condition, flags) == WhenTrue;

    private const int CF = 0, PF = 2, ZF = 6, SF = 7, OF = 11;

    /// <summary>The x86 condition <paramref name="cc"/> evaluated on <paramref name="flags"/>.</summary>
    public static bool Holds(ConditionCode cc, ulong flags)
    {
        bool F(int bit) => (flags >> bit & 1) != 0;
        return cc switch
        {
            ConditionCode.o => F(OF),
            ConditionCode.no => !F(OF),
            ConditionCode.b => F(CF),
            ConditionCode.ae => !F(CF),
            ConditionCode.e => F(ZF),
            ConditionCode.ne => !F(ZF),
            ConditionCode.be => F(CF) || F(ZF),
            ConditionCode.a => !F(CF) && !F(ZF),
            ConditionCode.s => F(SF),
            ConditionCode.ns => !F(SF),
            ConditionCode.p => F(PF),
            ConditionCode.np => !F(PF),
            ConditionCode.l => F(SF) != F(OF),
            ConditionCode.ge => F(SF) == F(OF),
            ConditionCode.le => F(ZF) || F(SF) != F(OF),
            ConditionCode.g => !F(ZF) && F(SF) == F(OF),
            _ => true,
        };
    }
}
