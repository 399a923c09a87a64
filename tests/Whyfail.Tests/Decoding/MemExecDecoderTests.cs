using Whyfail.Events;
using Xunit;
using static Whyfail.Tests.Decoding.Kit;

namespace Whyfail.Tests.Decoding;

/// <summary>
/// futex's FUTEX_WAKE_OP encoding, shmget/shmctl, written iovecs, node masks, execve's argv and envp, clone3's set_tid and
/// trailing bytes, kexec_load's segments, name_to_handle_at's in/out handle, io_cancel's iocb: the bytes and values come from the C
/// compiler with the installed headers, the expected text is what strace 6.1 prints for them.
/// </summary>
public class MemExecDecoderTests
{
    private static CapturedArg Nested(int arg, int k, byte[]? b, bool faulted = false) =>
        new(arg, CaptureKind.Nested, k, b, b?.Length ?? 0, faulted);

    private static ulong CValue(string includes, string expr) =>
        BitConverter.ToUInt64(CStruct.Bytes(includes, "uint64_t", $"s = (uint64_t)({expr});"));

    [CompilerFact]
    public void FutexWakeOpIsShownFieldByField()
    {
        const string h = "#include <linux/futex.h>";
        ulong val3 = CValue(h, "FUTEX_OP(FUTEX_OP_ANDN | FUTEX_OP_OPARG_SHIFT, 0xdfa, 0xa, 0xced)");
        ulong op = CValue(h, "FUTEX_WAKE_OP_PRIVATE");
        Assert.Equal("futex(0x1000, FUTEX_WAKE_OP_PRIVATE, 4207869677, 22, 0x2000, " +
                     "FUTEX_OP_OPARG_SHIFT<<28|FUTEX_OP_ANDN<<28|0xdfa<<12|0xa<<24 /* FUTEX_OP_CMP_??? */|0xced)",
            Line(Ev("futex", [0x1000, op, 0xbadda7a0facefeed, 22, 0x2000, 0xbadda7a000000000 | val3], -38)));
        ulong set = CValue(h, "FUTEX_OP(FUTEX_OP_SET, 0, FUTEX_OP_CMP_EQ, 0) | (5u << 28)");
        Assert.Equal("0x5<<28 /* FUTEX_OP_??? */|0<<12|FUTEX_OP_CMP_EQ<<24|0",
            Raw(Ev("futex", [0x1000, CValue(h, "FUTEX_WAKE_OP"), 1, 8, 0x2000, set], -38))[5]);
        // FUTEX_FD has no _PRIVATE name in linux/futex.h; its val is the u32 the kernel reads.
        Assert.Equal("futex(0x1000, FUTEX_FD|FUTEX_PRIVATE_FLAG, 4207869677)",
            Line(Ev("futex", [0x1000, CValue(h, "FUTEX_FD | FUTEX_PRIVATE_FLAG"), 0xbadda7a0facefeed], -38)));
        // An unknown command: the whole operation in hex, and the generic arguments at the kernel's widths.
        Assert.Equal("futex(0x1000, 0xe /* FUTEX_??? */, 4207869677, 0x3000, 0x2000, 0x9caffee1)",
            Line(Ev("futex", [0x1000, 0xe, 0xbadda7a0facefeed, 0x3000, 0x2000, 0xbadda7a09caffee1], -38)));
    }

    [CompilerFact]
    public void ShmgetAndShmctl()
    {
        const string h = "#include <linux/ipc.h>\n#include <linux/shm.h>";
        ulong flags = CValue(h, "IPC_CREAT | IPC_EXCL | SHM_HUGETLB | SHM_NORESERVE | (21 << SHM_HUGE_SHIFT) | 0x2ce0000 | 0125");
        Assert.Equal("shmget(0xfdb97531, 4096, IPC_CREAT|IPC_EXCL|SHM_HUGETLB|SHM_NORESERVE|0x2ce0000|21<<SHM_HUGE_SHIFT|0125)",
            Line(Ev("shmget", [0xfdb97531, 4096, flags], -17)));
        Assert.Equal("shmget(IPC_PRIVATE, 4096, 0600)", Line(Ev("shmget", [0, 4096, 0x180], -12)));
        Assert.Equal("shmctl(-553988399, IPC_STAT, 0xffffffffffffffff)",
            Line(Ev("shmctl", [0xdefaced1, CValue(h, "IPC_STAT"), ulong.MaxValue], -22)));
        Assert.Equal("shmctl(1, SHM_LOCK|IPC_64, NULL)", Line(Ev("shmctl", [1, CValue(h, "SHM_LOCK | IPC_64"), 0], -1)));
    }

    [CompilerFact]
    public void WrittenIovecsShowTheirData()
    {
        var iov = CStruct.Bytes("#include <sys/uio.h>", "struct { struct iovec v[3]; }",
            "s.v[0].iov_base = (void *)0x10000; s.v[0].iov_len = 3; s.v[1].iov_base = (void *)0x20000; s.v[1].iov_len = 0; " +
            "s.v[2].iov_base = (void *)0x30000; s.v[2].iov_len = 8;");
        var abc = "abc"u8.ToArray();
        // Element 2's buffer was not readable at all: its address.
        Assert.Equal("writev(1, [{iov_base=\"abc\", iov_len=3}, {iov_base=\"\", iov_len=0}, {iov_base=0x30000, iov_len=8}], 3)",
            Line(Ev("writev", [1, 0x5000, 3], -14, false, Fixed(1, iov), Nested(1, 0, abc), Nested(1, 2, null))));
        // The array itself ending at an unmapped page after one element.
        Assert.Equal("pwritev2(1, [{iov_base=\"abc\", iov_len=3}, ... /* 0x5010 */], 2, 0, RWF_HIPRI)",
            Line(Ev("pwritev2", [1, 0x5000, 2, 0, 0, 1], -14, false,
                new CapturedArg(1, CaptureKind.Fixed, 0, iov[..16], 512, true), Nested(1, 0, abc))));
        // -s cuts each buffer.
        Assert.Equal("[{iov_base=\"ab\"..., iov_len=3}]", Raw(Ev("writev", [1, 0x5000, 1], -9, false, Fixed(1, iov[..16]), Nested(1, 0, abc)), limit: 2)[1]);
        var spec = Whyfail.Decoding.Decoder.CaptureSpecFor(Nr("process_vm_writev"))!;
        Assert.Equal(8, Enumerable.Range(0, 8).Count(k => spec.NestedSize[k] != 0));
        Assert.Equal(1, spec.NestedArg);
    }

    [CompilerFact]
    public void NodeMasksAreReadByMaxnode()
    {
        var mask = CStruct.Bytes("", "struct { unsigned long v[3]; }", "s.v[0] = 0x3; s.v[1] = 0; s.v[2] = 0x8000000000000000UL;");
        Assert.Equal("set_mempolicy(MPOL_BIND, [0000000000000003, 0000000000000000, 8000000000000000], 130)",
            Line(Ev("set_mempolicy", [2, 0x7000, 130], -22, false, Fixed(0 + 1, mask))));
        // maxnode 129: the kernel reads 128 bits, two longs; 0: none.
        Assert.Equal("[0000000000000003, 0000000000000000]", Raw(Ev("set_mempolicy", [2, 0x7000, 129], -22, false, Fixed(1, mask)))[1]);
        Assert.Equal("[]", Raw(Ev("set_mempolicy", [2, 0x7000, 0], -22, false, Fixed(1, mask)))[1]);
        // The first long unreadable: the address; one long before the unmapped page: strace's marker.
        Assert.Equal("0x7fff", Raw(Ev("set_mempolicy", [0, 0x7fff, 2], -14, false, new CapturedArg(1, CaptureKind.Fixed, 0, [0], 4096, true)))[1]);
        Assert.Equal("[0000000000000003, ... /* 0x7008 */]",
            Raw(Ev("set_mempolicy", [0, 0x7000, 130], -14, false, new CapturedArg(1, CaptureKind.Fixed, 0, mask[..8], 4096, true)))[1]);
        Assert.Equal("mbind(0x1000, 4096, MPOL_BIND, [0000000000000003], 64, MPOL_MF_STRICT)",
            Line(Ev("mbind", [0x1000, 4096, 2, 0x7000, 64, 1], -22, false, Fixed(3, mask))));
    }

    [Fact]
    public void ExecveArgvAndEnvpCount()
    {
        var envp = new StructBytes(32).U64(0, 0x9000).U64(8, 0x9010).U64(16, 0).Bytes;
        var bad = new CapturedArg(1, CaptureKind.StringVector, 1, Le64(ulong.MaxValue), 0, true);
        var end = new CapturedArg(1, CaptureKind.StringVector, 2, null, 0, true);
        Assert.Equal("execve(\"/x\", [\"a\", 0xffffffffffffffff, ... /* 0x2010 */], 0x3000 /* 2 vars */)",
            Line(Ev("execve", [0x1000, 0x2000, 0x3000], -14, false, Str(0, "/x"), Vec(1, 0, "a"), bad, end, Fixed(2, envp))));
        // The array unreadable from its first element: its address. envp with one variable, running into an unmapped page.
        Assert.Equal("execve(\"/x\", 0x2000, 0x3000 /* 1 var */)",
            Line(Ev("execve", [0x1000, 0x2000, 0x3000], -14, false, Str(0, "/x"), new CapturedArg(1, CaptureKind.StringVector, 0, null, 0, true),
                Fixed(2, envp[..8].Concat(new byte[8]).ToArray()))));
        Assert.Equal("0x3000 /* 2 vars, then unreadable memory */",
            Raw(Ev("execve", [0x1000, 0x2000, 0x3000], -14, false, new CapturedArg(2, CaptureKind.Fixed, 0, envp[..16], 4096, true)))[2]);
        Assert.Equal("execveat(3, \"x\", [\"x\"], 0x3000 /* 0 vars */, 0)",
            Line(Ev("execveat", [3, 0x1000, 0x2000, 0x3000, 0], -2, false, Str(1, "x"), Vec(2, 0, "x"), Fixed(3, new byte[8]))));
    }

    [CompilerFact]
    public void Clone3SetTidAndTrailingBytes()
    {
        var args = CStruct.Bytes("#include <linux/sched.h>", "struct { struct clone_args a; uint64_t extra; }",
            "s.a.exit_signal = 0xdeadface; s.a.set_tid = 0x4000; s.a.set_tid_size = 2; s.extra = 0xfacefeeddeadc0deULL;");
        var tids = CStruct.Bytes("#include <sys/types.h>", "struct { pid_t v[2]; }", "s.v[0] = 1; s.v[1] = -2;");
        Assert.Equal("clone3({flags=0, exit_signal=3735943886, stack=NULL, stack_size=0, set_tid=[1, -2], set_tid_size=2, " +
                     "/* bytes 88..95 */ \"\\xde\\xc0\\xad\\xde\\xed\\xfe\\xce\\xfa\"}, 96)",
            Line(Ev("clone3", [0x1000, 96], -7, false, Sized(0, args), Nested(0, 0, tids))));
        // Past the page: "???" where the size reaches unreadable memory; set_tid with size 0 is shown as an address.
        var zero = CStruct.Bytes("#include <linux/sched.h>", "struct clone_args", "s.set_tid = 0xfacefeedcafebabeULL;");
        Assert.Equal("clone3({flags=0, exit_signal=0, stack=NULL, stack_size=0, set_tid=0xfacefeedcafebabe, set_tid_size=0, ???}, 104)",
            Line(Ev("clone3", [0x1000, 104], -14, false, new CapturedArg(0, CaptureKind.Sized, 0, zero, 104, true))));
    }

    [CompilerFact]
    public void KexecSegments()
    {
        var segs = CStruct.Bytes("#include <linux/kexec.h>", "struct { struct kexec_segment v[2]; }",
            "s.v[0].buf = 0; s.v[0].bufsz = 10; s.v[0].mem = (void *)0x100000; s.v[0].memsz = 4096; " +
            "s.v[1].buf = (void *)0x7000; s.v[1].bufsz = 1; s.v[1].mem = (void *)0x200000; s.v[1].memsz = 8192;");
        ulong flags = CValue("#include <linux/kexec.h>", "KEXEC_ARCH_X86_64 | KEXEC_ON_CRASH");
        Assert.Equal("kexec_load(0x1000, 2, [{buf=NULL, bufsz=10, mem=0x100000, memsz=4096}, {buf=0x7000, bufsz=1, mem=0x200000, memsz=8192}], " +
                     "KEXEC_ARCH_X86_64|KEXEC_ON_CRASH)",
            Line(Ev("kexec_load", [0x1000, 2, 0x3000, flags], -1, false, Fixed(2, segs))));
        // More than KEXEC_SEGMENT_MAX (16): the kernel refuses the count, strace shows the address.
        Assert.Equal("0x3000", Raw(Ev("kexec_load", [0x1000, 17, 0x3000, 0], -22, false, Fixed(2, segs)))[2]);
    }

    [Fact]
    public void NameToHandleAtShowsTheSizeAsPassedAndAsWrittenBack()
    {
        // struct file_handle's header (glibc's fcntl.h, under _GNU_SOURCE, which CStruct's program cannot set before
        // stdio.h): handle_bytes at 0, handle_type at 4, as tools/gen-xlat compiles it for the decoder.
        var passed = new StructBytes(8).U32(0, 0).I32(4, 0).Bytes;
        var after = new StructBytes(8).U32(0, 8).I32(4, 0).Bytes;
        var entry = new CapturedArg(2, CaptureKind.Entry, 0, passed[..4], 4);
        Assert.Equal("name_to_handle_at(AT_FDCWD, \".\", {handle_bytes=0 => 8}, 0x2000, AT_SYMLINK_FOLLOW)",
            Line(Ev("name_to_handle_at", [AtFdcwd, 0x1000, 0x3000, 0x2000, 0x400], -75, false, Str(1, "."), Fixed(2, after), entry)));
        // Another error: the kernel wrote nothing back; an unreadable handle: its address.
        Assert.Equal("{handle_bytes=0}", Raw(Ev("name_to_handle_at", [AtFdcwd, 0x1000, 0x3000, 0x2000, 0], -2, false, Fixed(2, passed), entry))[2]);
        Assert.Equal("0x3000", Raw(Ev("name_to_handle_at", [AtFdcwd, 0x1000, 0x3000, 0x2000, 0], -14, false, Unreadable(2)))[2]);
    }

    [CompilerFact]
    public void AioCancelShowsTheIocbHeaderAndGeteventsItsTimeout()
    {
        var cb = CStruct.Bytes("#include <linux/aio_abi.h>", "struct iocb",
            "s.aio_data = 0xdeadbeefbadc0dedULL; s.aio_lio_opcode = IOCB_CMD_PREAD; s.aio_reqprio = 99; s.aio_fildes = -42;");
        Assert.Equal("io_cancel(0x7f0000, {aio_data=0xdeadbeefbadc0ded, aio_lio_opcode=IOCB_CMD_PREAD, aio_reqprio=99, aio_fildes=-42}, 0x2000)",
            Line(Ev("io_cancel", [0x7f0000, 0x1000, 0x2000], -22, false, Fixed(1, cb))));
        var prio = CStruct.Bytes("#include <linux/aio_abi.h>\n#include <linux/ioprio.h>", "struct iocb",
            "s.aio_key = 7; s.aio_lio_opcode = 61453; s.aio_flags = IOCB_FLAG_IOPRIO; " +
            "s.aio_reqprio = IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, 4); s.aio_fildes = 3;");
        Assert.Equal("{aio_data=0, aio_key=7, aio_lio_opcode=61453 /* IOCB_CMD_??? */, aio_reqprio=IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, 4), aio_fildes=3}",
            Raw(Ev("io_cancel", [0x7f0000, 0x1000, 0x2000], -22, false, Fixed(1, prio)))[1]);
        var ts = CStruct.Bytes("#include <linux/time_types.h>", "struct __kernel_timespec", "s.tv_sec = 3735928559; s.tv_nsec = 4207869677;");
        Assert.Equal("io_getevents(0xface1e55deadbeef, 0, 0, NULL, {tv_sec=3735928559, tv_nsec=4207869677})",
            Line(Ev("io_getevents", [0xface1e55deadbeef, 0, 0, 0, 0x3000], -22, false, Fixed(4, ts))));
    }

    [CompilerFact]
    public void ArchPrctlXcompRequestsNameTheStateComponent()
    {
        ulong req = CValue("#include <asm/prctl.h>", "ARCH_REQ_XCOMP_PERM");
        // XSAVE component 17 is AMX's tile configuration (the kernel's enum xfeature, from its BTF: tools/gen-xlat K()).
        Assert.Equal("arch_prctl(ARCH_REQ_XCOMP_PERM, 0x11 /* XFEATURE_XTILE_CFG */)", Line(Ev("arch_prctl", [req, 0x11], -95)));
        Assert.Equal("arch_prctl(ARCH_REQ_XCOMP_PERM, 0 /* XFEATURE_FP */)", Line(Ev("arch_prctl", [req, 0], -95)));
        Assert.Equal("arch_prctl(ARCH_REQ_XCOMP_PERM, 0xdeadface)", Line(Ev("arch_prctl", [req, 0xdeadface], -22)));
        Assert.Equal("arch_prctl(ARCH_SET_FS, 0x11)", Line(Ev("arch_prctl", [CValue("#include <asm/prctl.h>", "ARCH_SET_FS"), 0x11], -1)));
    }
}
