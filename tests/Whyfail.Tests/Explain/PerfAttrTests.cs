#pragma warning disable CA1416 // Linux only
using Xunit;
using static Whyfail.Tests.Explain.Ev;

namespace Whyfail.Tests.Explain;

/// <summary>perf_event_open refusing a real perf_event_attr with EINVAL: the field the kernel objects to is named.</summary>
[Collection("Explain")]
public sealed class PerfAttrTests
{
    const int NR_PERF_EVENT_OPEN = 298;

    // A 136-byte perf_event_attr (PERF_ATTR_SIZE_VER8) for a software CPU clock, with the given fields changed.
    private static string Script(string sampleType, string branchType, int pid, int cpu, string bits = "1") => $$"""
attr = bytearray(136)
struct.pack_into('<IIQQQ', attr, 0, 1, 136, 0, 100000, {{sampleType}})
struct.pack_into('<Q', attr, 40, {{bits}})         # disabled and the other flag bits
struct.pack_into('<Q', attr, 72, {{branchType}})
say(attr.hex())
buf = ctypes.create_string_buffer(bytes(attr), 136)
libc.syscall.restype = ctypes.c_long
t(c, 'syscall', {{NR_PERF_EVENT_OPEN}}, buf, {{pid}}, {{cpu}}, -1, 0)
""";

    private static List<Whyfail.Events.Explanation> Explain(Actor p, int pid, int cpu) =>
        Run(p.Event("perf_event_open", NR_PERF_EVENT_OPEN, 22, [0, unchecked((ulong)pid), unchecked((ulong)cpu), unchecked((ulong)-1L), 0],
            [Bytes(0, Convert.FromHexString(p.Said[0]))]));

    [Fact]
    public void A_branch_sample_type_bit_no_kernel_defines()
    {
        using var p = Actor.Python(Script("0x800", "0x8 | (1 << 62)", 0, -1), uid: null);
        Assert.Equal(22, p.Errno());

        var e = One(Explain(p, 0, -1), "perf.invalid_attr");
        Assert.StartsWith("perf_event_attr.branch_sample_type = 0x4000000000000008 has bit 62 (0x4000000000000000), which the kernel headers do not define (the highest is PERF_SAMPLE_BRANCH_", e.Text);
        Assert.EndsWith("; the kernel probably rejects it as unknown", e.Text);
        Assert.False(e.Certain);
    }

    [Fact]
    public void A_branch_filter_with_only_privilege_levels()
    {
        using var p = Actor.Python(Script("0x800", "0x1 | 0x2", 0, -1), uid: null);
        Assert.Equal(22, p.Errno());

        var e = One(Explain(p, 0, -1), "perf.invalid_attr");
        Assert.Equal("perf_event_attr.branch_sample_type = 0x3 names only privilege levels (user/kernel/hv) and no branch type, with PERF_SAMPLE_BRANCH_STACK in sample_type", e.Text);
        Assert.True(e.Certain);
    }

    [Theory]
    [InlineData("1 | 0x1000 | 0x1000000000", "perf_event_attr.remove_on_exec and enable_on_exec are both set, and the kernel allows only one of them")]
    [InlineData("1 | 0x800000000", "perf_event_attr.inherit_thread is set without inherit, which it needs")]
    [InlineData("1 | 0x2000000000", "perf_event_attr.sigtrap is set without remove_on_exec, which it needs")]
    public void Flag_pairs_the_kernel_refuses(string bits, string text)
    {
        using var p = Actor.Python(Script("0", "0", 0, -1, bits), uid: null);
        Assert.Equal(22, p.Errno());

        var e = One(Explain(p, 0, -1), "perf.invalid_attr");
        Assert.Equal(text, e.Text);
        Assert.True(e.Certain);
    }

    [Fact]
    public void Pid_and_cpu_both_minus_one()
    {
        using var p = Actor.Python(Script("0", "0", -1, -1), uid: null);
        Assert.Equal(22, p.Errno());

        var ex = Explain(p, -1, -1);
        var e = One(ex, "perf.invalid_attr");
        Assert.StartsWith("pid and cpu are both -1", e.Text);
        Assert.Single(ex, x => x.Rule == "perf.invalid_attr"); // the attribute itself is fine
    }
}
