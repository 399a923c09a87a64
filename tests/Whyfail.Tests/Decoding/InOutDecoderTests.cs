using Whyfail.Events;
using Xunit;
using static Whyfail.Tests.Decoding.Kit;

namespace Whyfail.Tests.Decoding;

/// <summary>
/// In/out arguments (issue 19.2): structures the kernel writes back into on failure are shown as the program passed
/// them (the entry copy), with strace's "before => after" where strace shows it. Struct bytes laid out by the C compiler.
/// </summary>
public class InOutDecoderTests
{
    private static CapturedArg Entry(int arg, byte[] b) => new(arg, CaptureKind.Entry, 0, b[..Math.Min(16, b.Length)], Math.Min(16, b.Length));

    [CompilerFact]
    public void PerfSizeShowsWhatWasPassedThenWhatTheKernelWrote()
    {
        const string inc = "#include <linux/perf_event.h>";
        var passed = CStruct.Bytes(inc, "struct perf_event_attr", "s.type = PERF_TYPE_SOFTWARE; s.size = 200;");
        var after = CStruct.Bytes(inc, "struct perf_event_attr", "s.type = PERF_TYPE_SOFTWARE; s.size = PERF_ATTR_SIZE_VER5;");
        var line = Line(Ev("perf_event_open", [0x7000, 0, 0xffffffff, 0xffffffff, 0], -7, false, Fixed(0, after), Entry(0, passed)));
        Assert.StartsWith("perf_event_open({type=PERF_TYPE_SOFTWARE, size=200 => 112 /* PERF_ATTR_SIZE_VER5 */, config=", line);
        // Without the entry copy (an older capture): the value read at exit, no arrow.
        var old = Line(Ev("perf_event_open", [0x7000, 0, 0xffffffff, 0xffffffff, 0], -7, false, Fixed(0, after)));
        Assert.StartsWith("perf_event_open({type=PERF_TYPE_SOFTWARE, size=112 /* PERF_ATTR_SIZE_VER5 */, config=", old);
        // Another errno: the kernel wrote nothing back, no arrow.
        var einval = Line(Ev("perf_event_open", [0x7000, 0, 0xffffffff, 0xffffffff, 0], -22, false, Fixed(0, passed), Entry(0, passed)));
        Assert.StartsWith("perf_event_open({type=PERF_TYPE_SOFTWARE, size=200, config=", einval);
    }

    [CompilerFact]
    public void CapsetHeaderIsShownAsPassed()
    {
        const string inc = "#include <linux/capability.h>";
        var passed = CStruct.Bytes(inc, "struct __user_cap_header_struct", "s.version = 0x12345678; s.pid = 0;");
        var after = CStruct.Bytes(inc, "struct __user_cap_header_struct", "s.version = _LINUX_CAPABILITY_VERSION_3; s.pid = 0;");
        Assert.Equal("capget({version=0x12345678 /* _LINUX_CAPABILITY_VERSION_??? */, pid=0}, 0x8000)",
            Line(Ev("capget", [0x7000, 0x8000], -22, false, Fixed(0, after), Entry(0, passed))));
    }

    [CompilerFact]
    public void SchedSetattrE2bigShowsTheSizeTheKernelWants()
    {
        const string inc = "#include <linux/sched/types.h>";
        var passed = CStruct.Bytes(inc, "struct sched_attr", "s.size = 48; s.sched_policy = 0;");
        var after = CStruct.Bytes(inc, "struct sched_attr", "s.size = sizeof(struct sched_attr); s.sched_policy = 0;");
        var line = Line(Ev("sched_setattr", [0, 0x7000, 0], -7, false, Fixed(1, after), Entry(1, passed)));
        Assert.Contains("sched_setattr(0, {size=48, ", line);
        Assert.Contains($"}} => {{size={after.Length}}}, 0)", line);
    }

    [Fact]
    public void OnlyTheWrittenBackCallsAskForAnEntryCopy()
    {
        var withEntry = Enumerable.Range(0, 512).Select(nr => (nr, spec: Whyfail.Decoding.Decoder.CaptureSpecFor(nr)))
            .Where(x => x.spec is { EntrySize: > 0 }).Select(x => Whyfail.Decoding.SyscallTable.DisplayName(x.nr)).OrderBy(n => n);
        // pselect6: the kernel writes the time left back into its timeout on the way out.
        Assert.Equal(["capget", "capset", "name_to_handle_at", "perf_event_open", "pselect6", "sched_setattr"], withEntry);
    }
}
