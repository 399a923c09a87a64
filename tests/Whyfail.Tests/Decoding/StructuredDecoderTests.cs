using Xunit;
using static Whyfail.Tests.Decoding.Kit;

namespace Whyfail.Tests.Decoding;

public class PerfDecoderTests
{
    /// <summary>struct perf_event_attr per include/uapi/linux/perf_event.h (VER7, 128 bytes; VER8 adds config3 at 128).</summary>
    private static StructBytes Attr(uint type, uint size, ulong config, int bytes = 128) =>
        new StructBytes(bytes).U32(0, type).U32(4, size).U64(8, config);

    private const int SampleType = 24, ReadFormat = 32, Bits = 40, Wakeup = 48, BpType = 52, Config1 = 56, Config2 = 64,
        BranchSampleType = 72, ClockId = 92, SampleMaxStack = 108;

    private static string Decode(byte[] attr, ulong flags = 8, long ret = -13) =>
        Line(Ev("perf_event_open", [0x1000, 0, ulong.MaxValue, ulong.MaxValue, flags], ret, false, Fixed(0, attr)));

    [Fact]
    public void CountingEvent()
    {
        var line = Decode(Attr(0, 128, 1).U64(ReadFormat, 3).U64(Bits, 0x61).Bytes);
        Assert.StartsWith("perf_event_open({type=PERF_TYPE_HARDWARE, size=128 /* PERF_ATTR_SIZE_VER7 */, config=PERF_COUNT_HW_INSTRUCTIONS, "
                          + "sample_period=0, sample_type=0, read_format=PERF_FORMAT_TOTAL_TIME_ENABLED|PERF_FORMAT_TOTAL_TIME_RUNNING, "
                          + "disabled=1, inherit=0, pinned=0, exclusive=0, exclude_user=0, exclude_kernel=1, exclude_hv=1, exclude_idle=0, ", line);
        // every bit is shown, as strace -v does; precise_ip with what the header says it means
        Assert.Contains(", precise_ip=0 /* arbitrary skid */, ", line);
        Assert.EndsWith(", sigtrap=0, wakeup_events=0}, 0, -1, -1, PERF_FLAG_FD_CLOEXEC)", line);
    }

    [Fact]
    public void SamplingEvent()
    {
        var line = Decode(Attr(0, 128, 0).U64(16, 4000).U64(SampleType, 0x827).U64(Bits, 0x400 | 0x10000 | 0x2000000)
            .U64(BranchSampleType, 0x9).I32(ClockId, 4).U16(SampleMaxStack, 127).Bytes);
        Assert.StartsWith("perf_event_open({type=PERF_TYPE_HARDWARE, size=128 /* PERF_ATTR_SIZE_VER7 */, config=PERF_COUNT_HW_CPU_CYCLES, "
                          + "sample_freq=4000, sample_type=PERF_SAMPLE_IP|PERF_SAMPLE_TID|PERF_SAMPLE_TIME|PERF_SAMPLE_CALLCHAIN|PERF_SAMPLE_BRANCH_STACK, "
                          + "read_format=0, disabled=0, ", line);
        Assert.Contains(", freq=1, ", line);
        Assert.Contains(", precise_ip=2 /* requested to have 0 skid */, ", line);
        Assert.Contains(", use_clockid=1, ", line);
        Assert.EndsWith(", wakeup_events=0, branch_sample_type=PERF_SAMPLE_BRANCH_USER|PERF_SAMPLE_BRANCH_ANY, "
                        + "clockid=CLOCK_MONOTONIC_RAW, sample_max_stack=127}, 0, -1, -1, PERF_FLAG_FD_CLOEXEC)", line);
    }

    [Fact]
    public void UnknownBitsAreShownInHex() =>
        Assert.Contains("sigtrap=0, __reserved_1=0x4 /* Bits 63..38 */, wakeup_events=0",
            Decode(Attr(1, 128, 0).U64(Bits, 1 | (1UL << 40)).Bytes));

    [Fact]
    public void ConfigByType()
    {
        Assert.Contains("config=PERF_COUNT_HW_CACHE_RESULT_MISS<<16|PERF_COUNT_HW_CACHE_OP_READ<<8|PERF_COUNT_HW_CACHE_L1D,",
            Decode(Attr(3, 128, 0x10000).Bytes));
        Assert.Contains("type=PERF_TYPE_SOFTWARE, size=128 /* PERF_ATTR_SIZE_VER7 */, config=PERF_COUNT_SW_PAGE_FAULTS,",
            Decode(Attr(1, 128, 2).Bytes));
        Assert.Contains("type=PERF_TYPE_TRACEPOINT, size=128 /* PERF_ATTR_SIZE_VER7 */, config=418,", Decode(Attr(2, 128, 0x1a2).Bytes));
        Assert.Contains("type=10, size=128 /* PERF_ATTR_SIZE_VER7 */, config=0x3c,", Decode(Attr(10, 128, 0x3c).U64(Config1, 7).Bytes));
        Assert.Contains("config1=0x7", Decode(Attr(10, 128, 0x3c).U64(Config1, 7).Bytes));
        Assert.Contains("config=0x8<<32|PERF_COUNT_HW_CPU_CYCLES,", Decode(Attr(0, 128, 0x800000000).Bytes));
        Assert.Contains("config=0x63 /* PERF_COUNT_SW_??? */,", Decode(Attr(1, 128, 99).Bytes));
        // strace's tests/perf_event_open.c: the PMU type and bits 24..31 of a cache event, high to low.
        Assert.Contains("config=0xdeadf157<<32|0x1<<24|PERF_COUNT_HW_CACHE_RESULT_MISS<<16|0x3<<8|PERF_COUNT_HW_CACHE_NODE,",
            Decode(Attr(3, 128, 0xdeadf15701010306).Bytes));
    }

    [Fact]
    public void Breakpoint() =>
        Assert.Contains("wakeup_events=0, bp_type=HW_BREAKPOINT_W, bp_addr=0x601000, bp_len=8}",
            Decode(Attr(5, 128, 0).U32(BpType, 2).U64(Config1, 0x601000).U64(Config2, 8).Bytes));

    [Fact]
    public void BreakpointTypeIsAnEnumeration()
    {
        Assert.Contains("bp_type=HW_BREAKPOINT_RW,", Decode(Attr(5, 128, 0).U32(BpType, 3).Bytes));
        Assert.Contains("bp_type=0x5 /* HW_BREAKPOINT_INVALID */,", Decode(Attr(5, 128, 0).U32(BpType, 5).Bytes));
        Assert.Contains("bp_type=0x10 /* HW_BREAKPOINT_??? */,", Decode(Attr(5, 128, 0).U32(BpType, 16).Bytes));
    }

    [Fact]
    public void FieldsFollowTheDeclaredSize()
    {
        // VER0 (64 bytes): nothing after config1's place is the caller's
        var ver0 = Decode(Attr(0, 64, 0).U64(BranchSampleType, 0xff).U64(SampleType, 0).Bytes);
        Assert.DoesNotContain("branch_sample_type", ver0);
        Assert.Contains("size=64 /* PERF_ATTR_SIZE_VER0 */", ver0);
        // size 0 means VER0
        Assert.DoesNotContain("sample_max_stack", Decode(Attr(0, 0, 0).U16(SampleMaxStack, 5).Bytes));
        // VER8 (136) adds config3
        Assert.Contains("size=136, ", Decode(Attr(10, 136, 1, bytes: 136).U64(128, 5).Bytes));
        Assert.Contains("config3=0x5}", Decode(Attr(10, 136, 1, bytes: 136).U64(128, 5).Bytes));
        // a size larger than what was copied: only what was copied
        Assert.Contains("size=4096, ", Decode(Attr(0, 4096, 0).Bytes));
    }

    [Fact]
    public void UndecodableAttr()
    {
        Assert.Equal("perf_event_open(0x1000, 0, -1, -1, PERF_FLAG_FD_CLOEXEC)", Decode(new byte[40]));
        Assert.Equal("perf_event_open(0x1000, -1, 0, -1, 0)",
            Line(Ev("perf_event_open", [0x1000, ulong.MaxValue, 0, ulong.MaxValue, 0], -13, false, Unreadable(0))));
        Assert.Equal("perf_event_open(NULL, 0, -1, -1, PERF_FLAG_FD_NO_GROUP|PERF_FLAG_FD_CLOEXEC)",
            Line(Ev("perf_event_open", [0, 0, ulong.MaxValue, ulong.MaxValue, 9], -14)));
    }

    [CompilerFact]
    public void AttrMatchesTheCompilersLayout()
    {
        var bytes = CStruct.Bytes("#include <linux/perf_event.h>\n#include <time.h>", "struct perf_event_attr",
            "s.type = PERF_TYPE_SOFTWARE; s.size = sizeof s; s.config = PERF_COUNT_SW_CPU_CLOCK; s.sample_period = 100000; "
            + "s.sample_type = PERF_SAMPLE_IP; s.disabled = 1; s.exclude_kernel = 1; s.precise_ip = 3; s.mmap = 1; "
            + "s.use_clockid = 1; s.clockid = CLOCK_MONOTONIC; s.sample_max_stack = 127; s.inherit_thread = 1;");
        var line = Decode(bytes);
        Assert.StartsWith($"perf_event_open({{type=PERF_TYPE_SOFTWARE, size={bytes.Length} /* PERF_ATTR_SIZE_VER7 */, config=PERF_COUNT_SW_CPU_CLOCK, "
                          + "sample_period=100000, sample_type=PERF_SAMPLE_IP, read_format=0, disabled=1, inherit=0, pinned=0, exclusive=0, "
                          + "exclude_user=0, exclude_kernel=1, exclude_hv=0, exclude_idle=0, mmap=1, ", line);
        Assert.Contains(", precise_ip=3 /* must have 0 skid */, ", line);
        Assert.Contains(", use_clockid=1, ", line);
        Assert.Contains(", inherit_thread=1, ", line);
        Assert.EndsWith(", wakeup_events=0, clockid=CLOCK_MONOTONIC, sample_max_stack=127}, 0, -1, -1, PERF_FLAG_FD_CLOEXEC)", line);
    }
}

public class BpfIoUringDecoderTests
{
    [Fact]
    public void BpfMapCreate()
    {
        var attr = new StructBytes(72).U32(0, 1).U32(4, 4).U32(8, 8).U32(12, 1024).U32(16, 1).Ascii(28, "counts").Bytes;
        Assert.Equal("bpf(BPF_MAP_CREATE, {map_type=BPF_MAP_TYPE_HASH, key_size=4, value_size=8, max_entries=1024, "
                     + "map_flags=BPF_F_NO_PREALLOC, inner_map_fd=0, map_name=\"counts\", map_ifindex=0}, 72)",
            Line(Ev("bpf", [0, 0x1000, 72], -1, false, Sized(1, attr))));
        // The kernel reads size bytes and takes the rest as zero; strace shows the first four fields whatever the size.
        Assert.Equal("bpf(BPF_MAP_CREATE, {map_type=BPF_MAP_TYPE_UNSPEC, key_size=0, value_size=0, max_entries=0}, 8)",
            Line(Ev("bpf", [0, 0x1000, 8], -22, false, Sized(1, new byte[8]))));
        Assert.Equal("bpf(BPF_MAP_CREATE, 0x1000, 8)", Line(Ev("bpf", [0, 0x1000, 8], -14, false, Unreadable(1, Whyfail.Events.CaptureKind.Sized))));
    }

    [Fact]
    public void BpfProgLoad()
    {
        var attr = new StructBytes(144).U32(0, 2).U32(4, 10).U64(8, 0x1000).U64(16, 0x2000).U32(24, 1).U32(28, 65536)
            .U64(32, 0x3000).Ascii(48, "probe").Bytes;
        Assert.Equal("bpf(BPF_PROG_LOAD, {prog_type=BPF_PROG_TYPE_KPROBE, insn_cnt=10, insns=0x1000, license=0x2000, log_level=1, "
                     + "log_size=65536, log_buf=0x3000, kern_version=0, prog_flags=0, prog_name=\"probe\"}, 148)",
            Line(Ev("bpf", [5, 0x9000, 148], -1, false, Sized(1, attr, 148))));
    }

    [Fact]
    public void BpfOtherCommands()
    {
        // a command decoded as strace 6.1 does (all zero: a NULL pathname), and one still shown as its pointer
        Assert.Equal("bpf(BPF_OBJ_GET, {pathname=NULL, bpf_fd=0, file_flags=0}, 16)", Line(Ev("bpf", [7, 0x1000, 16], -2, false, Sized(1, new byte[16]))));
        Assert.Equal("bpf(BPF_PROG_QUERY, 0x1000, 16)", Line(Ev("bpf", [16, 0x1000, 16], -2, false, Sized(1, new byte[16]))));
        Assert.Equal("bpf(0x63 /* BPF_??? */, 0x1000, 16)", Line(Ev("bpf", [99, 0x1000, 16], -22)));
    }

    private static StructBytes Params(uint flags, uint cpu = 0, uint idle = 0) =>
        new StructBytes(120).U32(8, flags).U32(12, cpu).U32(16, idle);

    [Fact]
    public void IoUringSetup()
    {
        Assert.Equal("io_uring_setup(8, {flags=IORING_SETUP_SQPOLL|IORING_SETUP_SQ_AFF, sq_thread_cpu=3, sq_thread_idle=1000})",
            Line(Ev("io_uring_setup", [8, 0x1000], -1, false, Fixed(1, Params(6, 3, 1000).Bytes))));
        Assert.Equal("io_uring_setup(8, {flags=IORING_SETUP_CQSIZE|IORING_SETUP_ATTACH_WQ, sq_thread_cpu=0, sq_thread_idle=0, cq_entries=64, wq_fd=5, resv=[0x1, 0, 0]})",
            Line(Ev("io_uring_setup", [8, 0x1000], -22, false, Fixed(1, Params(0x28).U32(4, 64).U32(24, 5).U32(28, 1).Bytes))));
        Assert.Equal("io_uring_setup(4, {flags=0, sq_thread_cpu=0, sq_thread_idle=0, sq_entries=4, cq_entries=8, features=IORING_FEAT_SINGLE_MMAP|IORING_FEAT_NODROP})",
            Line(Ev("io_uring_setup", [4, 0x1000], 3, false, Fixed(1, Params(0).U32(0, 4).U32(4, 8).U32(20, 3).Bytes))));
        Assert.Equal("io_uring_setup(4, 0x1000)", Line(Ev("io_uring_setup", [4, 0x1000], -14, false, Unreadable(1))));
    }

    [CompilerFact]
    public void IoUringParamsMatchTheCompilersLayout()
    {
        var bytes = CStruct.Bytes("#include <linux/io_uring.h>", "struct io_uring_params",
            "s.flags = IORING_SETUP_SQPOLL; s.sq_thread_cpu = 2; s.sq_thread_idle = 50;");
        Assert.Equal("io_uring_setup(1, {flags=IORING_SETUP_SQPOLL, sq_thread_cpu=2, sq_thread_idle=50})",
            Line(Ev("io_uring_setup", [1, 0x1000], -1, false, Fixed(1, bytes))));
    }

    [Fact]
    public void IoUringEnterAndRegister()
    {
        Assert.Equal("io_uring_enter(3, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0)", Line(Ev("io_uring_enter", [3, 1, 1, 1, 0, 0], -4)));
        Assert.Equal("io_uring_register(3, IORING_REGISTER_BUFFERS, 0x7ffd0000, 4)", Line(Ev("io_uring_register", [3, 0, 0x7ffd0000, 4], -12)));
    }
}

public class EpollTimeFutexDecoderTests
{
    [Fact]
    public void Epoll()
    {
        Assert.Equal("epoll_create1(EPOLL_CLOEXEC)", Line(Ev("epoll_create1", [0x80000], -24)));
        Assert.Equal("epoll_ctl(3, EPOLL_CTL_ADD, 4, {events=EPOLLIN|EPOLLET, data={u32=4, u64=4}})",
            Line(Ev("epoll_ctl", [3, 1, 4, 0x1000], -17, false, Fixed(3, new StructBytes(12).U32(0, 0x80000001).U64(4, 4).Bytes))));
        Assert.Equal("epoll_ctl(3, EPOLL_CTL_DEL, 4, NULL)", Line(Ev("epoll_ctl", [3, 2, 4, 0], -2)));
        Assert.Equal("epoll_wait(3, 0x7ffd0000, 64, -1)", Line(Ev("epoll_wait", [3, 0x7ffd0000, 64, 0xffffffff], -4)));
        Assert.Equal("epoll_pwait(3, 0x7ffd0000, 64, 100, [INT], 8)",
            Line(Ev("epoll_pwait", [3, 0x7ffd0000, 64, 100, 0x1000, 8], -4, false, Fixed(4, Le64(2)))));
        Assert.Equal("epoll_pwait2(3, 0x7ffd0000, 8, {tv_sec=0, tv_nsec=1000}, NULL, 8)",
            Line(Ev("epoll_pwait2", [3, 0x7ffd0000, 8, 0x1000, 0, 8], -4, false, Fixed(3, new StructBytes(16).I64(8, 1000).Bytes))));
    }

    [CompilerFact]
    public void EpollEventMatchesTheCompilersLayout()
    {
        var bytes = CStruct.Bytes("#include <linux/eventpoll.h>", "struct epoll_event",
            "s.events = EPOLLOUT | EPOLLONESHOT; s.data = 0x100000007ULL;");
        Assert.Equal("{events=EPOLLOUT|EPOLLONESHOT, data={u32=7, u64=4294967303}}",
            Raw(Ev("epoll_ctl", [3, 3, 4, 0x1000], -2, false, Fixed(3, bytes)))[3]);
    }

    private static byte[] Its(long intSec, long intNs, long valSec, long valNs) =>
        new StructBytes(32).I64(0, intSec).I64(8, intNs).I64(16, valSec).I64(24, valNs).Bytes;

    [Fact]
    public void Timers()
    {
        Assert.Equal("timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK|TFD_CLOEXEC)", Line(Ev("timerfd_create", [1, 0x80800], -24)));
        Assert.Equal("timerfd_create(CLOCK_BOOTTIME_ALARM, 0)", Line(Ev("timerfd_create", [9, 0], -1)));
        Assert.Equal("timerfd_settime(3, TFD_TIMER_ABSTIME, {it_interval={tv_sec=0, tv_nsec=0}, it_value={tv_sec=1, tv_nsec=500}}, NULL)",
            Line(Ev("timerfd_settime", [3, 1, 0x1000, 0], -22, false, Fixed(2, Its(0, 0, 1, 500)))));
        Assert.Equal("timerfd_gettime(3, 0x7ffd0000)", Line(Ev("timerfd_gettime", [3, 0x7ffd0000], -9)));
        Assert.Equal("eventfd2(0, EFD_NONBLOCK|EFD_CLOEXEC)", Line(Ev("eventfd2", [0, 0x80800], -24)));
        Assert.Equal("eventfd2(1, EFD_SEMAPHORE)", Line(Ev("eventfd2", [1, 1], -24)));
        Assert.Equal("clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, {tv_sec=1700000000, tv_nsec=0}, NULL)",
            Line(Ev("clock_nanosleep", [0, 1, 0x1000, 0], -4, false, Fixed(2, new StructBytes(16).I64(0, 1700000000).Bytes))));
        Assert.Equal("nanosleep({tv_sec=-1, tv_nsec=0}, NULL)", Line(Ev("nanosleep", [0x1000, 0], -22, false, Fixed(0, new StructBytes(16).I64(0, -1).Bytes))));
        Assert.Equal("clock_gettime(99 /* CLOCK_??? */, 0x7ffd0000)", Line(Ev("clock_gettime", [99, 0x7ffd0000], -22)));
        Assert.Equal("clock_settime(CLOCK_REALTIME, {tv_sec=0, tv_nsec=0})", Line(Ev("clock_settime", [0, 0x1000], -1, false, Fixed(1, new byte[16]))));
        Assert.Equal("timer_settime(0, 0, {it_interval={tv_sec=0, tv_nsec=0}, it_value={tv_sec=0, tv_nsec=1000000000}}, NULL)",
            Line(Ev("timer_settime", [0, 0, 0x1000, 0], -22, false, Fixed(2, Its(0, 0, 0, 1000000000)))));
    }

    [Fact]
    public void Futex()
    {
        Assert.Equal("futex(0x7f001000, FUTEX_WAIT_PRIVATE, 2, NULL)", Line(Ev("futex", [0x7f001000, 0x80, 2, 0, 0, 0], -11)));
        Assert.Equal("futex(0x7f001000, FUTEX_WAIT, 0, {tv_sec=1, tv_nsec=0})",
            Line(Ev("futex", [0x7f001000, 0, 0, 0x2000, 0, 0], -110, false, Fixed(3, new StructBytes(16).I64(0, 1).Bytes))));
        Assert.Equal("futex(0x7f001000, FUTEX_WAKE_PRIVATE, 1)", Line(Ev("futex", [0x7f001000, 0x81, 1, 0, 0, 0], -22)));
        Assert.Equal("futex(0x7f001000, FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME, 2, NULL, FUTEX_BITSET_MATCH_ANY)",
            Line(Ev("futex", [0x7f001000, 0x189, 2, 0, 0, 0xffffffff], -110)));
        Assert.Equal("futex(0x1, FUTEX_CMP_REQUEUE_PRIVATE, 1, 2147483647, 0x2, 0)",
            Line(Ev("futex", [1, 0x84, 1, 0x7fffffff, 2, 0], -11)));
        Assert.Equal("futex(0x1, FUTEX_LOCK_PI_PRIVATE, NULL)", Line(Ev("futex", [1, 0x86, 0, 0, 0, 0], -35)));
        Assert.Equal("futex(0x1, FUTEX_UNLOCK_PI)", Line(Ev("futex", [1, 7, 0, 0, 0, 0], -1)));
        Assert.Equal("futex(0x1, 0xe3 /* FUTEX_??? */, 2, 0x3, 0x4, 0x5)", Line(Ev("futex", [1, 0xe3, 2, 3, 4, 5], -38)));
    }
}
