using Xunit;
using static Whyfail.Tests.Decoding.Kit;

namespace Whyfail.Tests.Decoding;

/// <summary>The sched_* family, on struct bytes laid out by the C compiler with the installed headers.</summary>
public class SchedDecoderTests
{
    private static byte[] Attr(string fill)
    {
        var b = CStruct.Bytes("#include <linux/sched.h>\n#include <linux/sched/types.h>", "struct sched_attr", fill);
        Assert.NotNull(b); // cc builds the test programs too: it is there
        return b!;
    }

    [Fact]
    public void PoliciesAndParams()
    {
        Assert.Equal("sched_setscheduler(0, SCHED_FIFO, [1])",
            Line(Ev("sched_setscheduler", [0, 1, 0x1000], -1, false, Fixed(2, Le32(1)))));
        Assert.Equal("sched_setscheduler(-1, 0xfacefeed /* SCHED_??? */, NULL)",
            Line(Ev("sched_setscheduler", [0xffffffff, 0xfacefeed, 0], -22)));
        Assert.Equal("sched_getscheduler(-1)", Line(Ev("sched_getscheduler", [0xffffffffffffffff], -22)));
        Assert.Equal("sched_get_priority_max(SCHED_DEADLINE)", Line(Ev("sched_get_priority_max", [6], -22)));
        Assert.Equal("sched_setparam(42, [0])", Line(Ev("sched_setparam", [42, 0x1000], -3, false, Fixed(1, Le32(0)))));
        // Written by the kernel only on success.
        Assert.Equal("sched_getparam(42, 0x1000)", Line(Ev("sched_getparam", [42, 0x1000], -3, false, Fixed(1, Le32(7)))));
    }

    [Fact]
    public void SetattrShowsTheFieldsItsSizeCovers()
    {
        var b = Attr("s.size = sizeof s; s.sched_policy = SCHED_DEADLINE; s.sched_flags = SCHED_FLAG_RECLAIM; " +
                     "s.sched_nice = -3; s.sched_runtime = 1000; s.sched_deadline = 2000; s.sched_period = 3000; s.sched_util_max = 1024;");
        Assert.Equal("sched_setattr(0, {size=56, sched_policy=SCHED_DEADLINE, sched_flags=SCHED_FLAG_RECLAIM, sched_nice=-3, " +
                     "sched_priority=0, sched_runtime=1000, sched_deadline=2000, sched_period=3000, sched_util_min=0, sched_util_max=1024}, 0)",
            Line(Ev("sched_setattr", [0, 0x1000, 0], -22, false, Fixed(1, b))));

        // SCHED_ATTR_SIZE_VER0 (48): no utilization clamps; KEEP_PARAMS hides the parameters and the policy.
        var v0 = Attr("s.size = 48; s.sched_policy = SCHED_FIFO; s.sched_flags = SCHED_FLAG_KEEP_PARAMS;");
        Assert.Equal("sched_setattr(0, {size=48, sched_flags=SCHED_FLAG_KEEP_PARAMS}, 0)",
            Line(Ev("sched_setattr", [0, 0x1000, 0], -22, false, Fixed(1, v0))));

        // A size smaller than the first version: only the size; larger than the kernel's struct: "..." after the known fields.
        Assert.Equal("sched_setattr(0, {size=20}, 0)",
            Line(Ev("sched_setattr", [0, 0x1000, 0], -7, false, Fixed(1, Attr("s.size = 20;")))));
        var big = new byte[112];
        Attr("s.size = 0x1000; s.sched_policy = SCHED_BATCH;").CopyTo(big, 0);
        Assert.StartsWith("sched_setattr(0, {size=4096, sched_policy=SCHED_BATCH, sched_flags=0, ",
            Line(Ev("sched_setattr", [0, 0x1000, 0], -7, false, Fixed(1, big))));
        Assert.EndsWith("sched_util_max=0, ...}, 0)", Line(Ev("sched_setattr", [0, 0x1000, 0], -7, false, Fixed(1, big))));
    }

    [Fact]
    public void GetattrShowsWhatTheKernelWroteOnlyOnSuccess()
    {
        var b = Attr("s.size = 48; s.sched_policy = SCHED_NORMAL; s.sched_nice = 5;");
        Assert.Equal("sched_getattr(0, {size=48, sched_policy=SCHED_OTHER, sched_flags=0, sched_nice=5, sched_priority=0, " +
                     "sched_runtime=0, sched_deadline=0, sched_period=0}, 56, 0)",
            Line(Ev("sched_getattr", [0, 0x1000, 56, 0], 0, false, Fixed(1, b))));
        Assert.Equal("sched_getattr(0, 0x1000, 56, 0)", Line(Ev("sched_getattr", [0, 0x1000, 56, 0], -22, false, Fixed(1, b))));
    }
}
