using Xunit;
using static Whyfail.Tests.Decoding.Kit;

namespace Whyfail.Tests.Decoding;

/// <summary>
/// io_uring_register's structures, fanotify_init/fanotify_mark, sendmsg/recvmsg's msghdr and arch_prctl's
/// pointers, on struct bytes laid out by the C compiler with the installed headers.
/// </summary>
public class RegisterAndNotifyDecoderTests
{
    private const string Uring = "#include <linux/io_uring.h>";

    private static CapturedArgBytes Struct(string includes, string type, string fill) => new(CStruct.Bytes(includes, type, fill));

    /// <summary>Wraps bytes so that a test can also cut them where an unmapped page would start.</summary>
    private sealed record CapturedArgBytes(byte[] Bytes)
    {
        public Whyfail.Events.CapturedArg Fixed(int arg) => Kit.Fixed(arg, Bytes);
        public Whyfail.Events.CapturedArg FaultedAfter(int arg, int readable, int asked) =>
            new(arg, Whyfail.Events.CaptureKind.Fixed, 0, Bytes[..readable], asked, Faulted: true);
    }

    [CompilerFact]
    public void RsrcRegisterIsReadByNrArgsWithItsExtensionBytes()
    {
        var reg = Struct(Uring, "struct io_uring_rsrc_register",
            "s.nr = 5; s.flags = IORING_RSRC_REGISTER_SPARSE | 0x10; s.resv2 = 0xbad; s.tags = 0x1000;");
        var op = (ulong)13; // IORING_REGISTER_FILES2, checked by name below
        Assert.Equal("io_uring_register(0, IORING_REGISTER_FILES2, {nr=5, flags=IORING_RSRC_REGISTER_SPARSE|0x10, resv2=0xbad, " +
                     "data=NULL, tags=0x1000}, 32)",
            Line(Ev("io_uring_register", [0, op, 0x7000, 32], -95, false, reg.Fixed(2))));
        // Below the structure's size the kernel reads nothing: the pointer.
        Assert.Equal("io_uring_register(0, IORING_REGISTER_FILES2, 0x7000, 31)",
            Line(Ev("io_uring_register", [0, op, 0x7000, 31], -95, false, reg.Fixed(2))));
        // 40 bytes asked, 32 readable before an unmapped page: the fields, then ???.
        var cut = Struct(Uring, "struct io_uring_rsrc_register", "s.nr = 0; s.data = 0x2000;");
        Assert.Equal("io_uring_register(0, IORING_REGISTER_FILES2, {nr=0, flags=0, data=[], tags=NULL, ???}, 40)",
            Line(Ev("io_uring_register", [0, op, 0x7fe0, 40], -95, true, cut.FaultedAfter(2, 32, 256))));
        // Readable extension bytes: the non-zero ones, as strace shows them.
        var ext = new byte[40];
        Array.Copy(cut.Bytes, ext, 32);
        for (int k = 32; k < 40; k++) ext[k] = (byte)(0xa0 + k - 32);
        Assert.Equal("io_uring_register(0, IORING_REGISTER_FILES2, {nr=0, flags=0, data=[], tags=NULL, " +
                     "/* bytes 32..39 */ \"\\xa0\\xa1\\xa2\\xa3\\xa4\\xa5\\xa6\\xa7\"}, 40)",
            Line(Ev("io_uring_register", [0, op, 0x7000, 40], -95, false, Fixed(2, ext))));
    }

    [CompilerFact]
    public void RsrcUpdate2AndBufReg()
    {
        var upd = Struct(Uring, "struct io_uring_rsrc_update2", "s.offset = 3735943886u; s.resv = 0xdead; s.nr = 2; s.data = 0x3000;");
        Assert.Equal("io_uring_register(0, IORING_REGISTER_BUFFERS_UPDATE, {offset=3735943886, resv=0xdead, data=0x3000, tags=NULL, nr=2}, 32)",
            Line(Ev("io_uring_register", [0, 16, 0x7000, 32], -95, false, upd.Fixed(2))));
        var buf = Struct(Uring, "struct io_uring_buf_reg", "s.ring_addr = 0xfacefeed; s.ring_entries = 8; s.bgid = 3; s.resv[1] = 7;");
        Assert.Equal("io_uring_register(0, IORING_REGISTER_PBUF_RING, {ring_addr=0xfacefeed, ring_entries=8, bgid=3, resv=[0, 0x7, 0]}, 1)",
            Line(Ev("io_uring_register", [0, 22, 0x7000, 1], -95, false, buf.Fixed(2))));
        // A structure cut short by an unmapped page is not decoded from its prefix alone: the pointer.
        Assert.Equal("io_uring_register(0, IORING_UNREGISTER_PBUF_RING, 0x7ff0, 1)",
            Line(Ev("io_uring_register", [0, 23, 0x7ff0, 1], -95, true, buf.FaultedAfter(2, 16, 256))));
    }

    [Fact]
    public void RegisterOpcodesAreTheHeadersOwn()
    {
        // The numbers the tests above use, checked against the generated table (no constant typed twice).
        Assert.Contains("IORING_REGISTER_FILES2", Line(Ev("io_uring_register", [0, 13, 0, 0], -95)));
        Assert.Contains("IORING_REGISTER_BUFFERS_UPDATE", Line(Ev("io_uring_register", [0, 16, 0, 0], -95)));
        Assert.Contains("IORING_REGISTER_PBUF_RING", Line(Ev("io_uring_register", [0, 22, 0, 0], -95)));
        Assert.Contains("IORING_UNREGISTER_PBUF_RING", Line(Ev("io_uring_register", [0, 23, 0, 0], -95)));
        Assert.Equal("io_uring_register(0, IORING_REGISTER_FILES, [3, 0, -1, ... /* 0x700c */], 5)",
            Line(Ev("io_uring_register", [0, 2, 0x7000, 5], -95, true,
                new Whyfail.Events.CapturedArg(2, Whyfail.Events.CaptureKind.Fixed, 0, [.. Le32(3), .. Le32(0), .. Le32(0xffffffff)], 256, Faulted: true))));
    }

    [Fact]
    public void FanotifyClassFlagsMaskAndNoFd()
    {
        Assert.Equal("fanotify_init(FAN_CLASS_NOTIF, O_WRONLY|0x80000000)", Line(Ev("fanotify_init", [0, 0x80000001], -22)));
        Assert.Equal("fanotify_init(0xc /* FAN_CLASS_??? */, O_RDONLY)", Line(Ev("fanotify_init", [0xc, 0], -22)));
        Assert.Equal("fanotify_init(FAN_CLASS_CONTENT|FAN_CLOEXEC|FAN_NONBLOCK, O_RDONLY|O_CLOEXEC)",
            Line(Ev("fanotify_init", [0x7, 0x80000], -1)));
        Assert.Equal("fanotify_mark(305419896, 0, 0, FAN_NOFD, NULL)",
            Line(Ev("fanotify_mark", [305419896, 0, 0, 0xffffffff, 0], -22)));
        Assert.Equal("fanotify_mark(3, FAN_MARK_ADD|FAN_MARK_ONLYDIR, FAN_ACCESS|FAN_ONDIR, AT_FDCWD, \"/tmp\")",
            Line(Ev("fanotify_mark", [3, 0x9, 0x40000001, unchecked((ulong)-100L), 0x1000], -22, false, Str(4, "/tmp"))));
    }

    [CompilerFact]
    public void RsrcDataAndTagsArraysAreShownFromTheirNestedCopies()
    {
        var reg = Struct(Uring, "struct io_uring_rsrc_register", "s.nr = 3; s.data = 0x2000; s.tags = 0x3000;");
        var fds = CStruct.Bytes("", "struct { int v[3]; }", "s.v[0] = 0; s.v[1] = -1; s.v[2] = 7;");
        var tags = CStruct.Bytes("", "struct { unsigned long long v[2]; }", "s.v[0] = 0xbadc0ded; s.v[1] = 0;");
        var op = (ulong)13; // IORING_REGISTER_FILES2
        // data copied whole; tags ran into an unmapped page after two of three: strace's "... /* address */".
        Assert.Equal("io_uring_register(0, IORING_REGISTER_FILES2, {nr=3, flags=0, data=[0, -1, 7], " +
                     "tags=[0xbadc0ded, 0, ... /* 0x3010 */]}, 32)",
            Line(Ev("io_uring_register", [0, op, 0x7000, 32], -95, false, reg.Fixed(2),
                new Whyfail.Events.CapturedArg(2, Whyfail.Events.CaptureKind.Nested, 0, fds, 48),
                new Whyfail.Events.CapturedArg(2, Whyfail.Events.CaptureKind.Nested, 1, tags, 24, Faulted: true))));
        // Unreadable from the first element: the address.
        Assert.Equal("io_uring_register(0, IORING_REGISTER_FILES2, {nr=3, flags=0, data=0x2000, tags=0x3000}, 32)",
            Line(Ev("io_uring_register", [0, op, 0x7000, 32], -95, false, reg.Fixed(2),
                new Whyfail.Events.CapturedArg(2, Whyfail.Events.CaptureKind.Nested, 0, null, 48),
                new Whyfail.Events.CapturedArg(2, Whyfail.Events.CaptureKind.Nested, 1, null, 24))));
    }

    [CompilerFact]
    public void SendmsgShowsTheHeaderRecvmsgTheOfferedNameLength()
    {
        var empty = CStruct.Bytes("#include <sys/socket.h>", "struct msghdr", "");
        Assert.Equal("sendmsg(-1, {msg_name=NULL, msg_namelen=0, msg_iov=NULL, msg_iovlen=0, msg_controllen=0, msg_flags=0}, 0)",
            Line(Ev("sendmsg", [0xffffffff, 0x7000, 0], -9, false, Fixed(1, empty))));
        var full = CStruct.Bytes("#include <sys/socket.h>", "struct msghdr",
            "s.msg_name = (void *)0x1000; s.msg_namelen = 16; s.msg_iov = (void *)0x2000; s.msg_control = (void *)0x3000; " +
            "s.msg_controllen = 24; s.msg_flags = MSG_DONTWAIT;");
        Assert.Equal("sendmsg(3, {msg_name=0x1000, msg_namelen=16, msg_iov=[], msg_iovlen=0, msg_control=0x3000, msg_controllen=24, " +
                     "msg_flags=MSG_DONTWAIT}, MSG_NOSIGNAL)",
            Line(Ev("sendmsg", [3, 0x7000, 0x4000], -32, false, Fixed(1, full))));
        Assert.Equal("recvmsg(3, {msg_namelen=16}, 0)", Line(Ev("recvmsg", [3, 0x7000, 0], -11, false, Fixed(1, full))));
        Assert.Equal("sendmsg(-1, 0x7ff0, 0)", Line(Ev("sendmsg", [0xffffffff, 0x7ff0, 0], -14, false, Unreadable(1))));
    }

    [Fact]
    public void ArchPrctlGetCodesTakeAPointer()
    {
        Assert.Equal("arch_prctl(ARCH_GET_GS, NULL)", Line(Ev("arch_prctl", [0x1004, 0], -14)));
        Assert.Equal("arch_prctl(ARCH_SET_GS, 0)", Line(Ev("arch_prctl", [0x1001, 0], -1)));
    }
}
