using Xunit;

namespace Whyfail.Tests.Integration;

/// <summary>
/// Arguments the way the kernel reads them, end to end: structures that end at the edge of an unmapped
/// page (tests/programs/page_edge.c). The kernel reads what the size says; so must the capture, and the
/// decoders show the readable prefix rather than a bare pointer. Memory a copied structure points to
/// (sendmsg's control messages) is copied too (bpf/copy_nested.h). Strings and arrays that run into the page are shown
/// up to it (delete_module's name, semop's sembufs, move_pages' addresses). A path of PATH_MAX - 1 bytes is whole.
/// </summary>
[Collection("tracing")]
[Trait("suite", "integration")]
public class DecodingEdgeTests
{
    [Fact]
    public void StructsEndingAtAnUnmappedPageAreDecodedFromTheirReadablePrefix()
    {
        var run = WhyfailRunner.Run("--no-explain", "--deep", "none", "--", WhyfailRunner.Program("page_edge"));
        Assert.True(run.ExitCode == 0, run.ToString());

        // A 64-byte perf_event_attr (PERF_ATTR_SIZE_VER0) in the last 64 bytes of a page: whyfail asks for the
        // current attribute size (136), the copy faults, and the 64 readable bytes are all the kernel reads.
        var perf = Assert.Single(run.Failures("perf_event_open", "EINVAL"));
        string attr = perf.GetProperty("args")[0].GetString()!;
        Assert.StartsWith("{type=PERF_TYPE_SOFTWARE, size=64 /* PERF_ATTR_SIZE_VER0 */, config=PERF_COUNT_SW_CPU_CLOCK, sample_period=4242,", attr);
        Assert.True(perf.GetProperty("capture_truncated").GetBoolean());
        Assert.Equal("0x80", perf.GetProperty("args")[4].GetString());

        // open_how (24 bytes) at the page's end, passed with usize 32: the kernel faults on the last 8 bytes
        // (EFAULT); the fields are shown, and the unreadable rest as strace shows it.
        var openat2 = Assert.Single(run.Failures("openat2", "EFAULT"));
        Assert.Equal("{flags=O_RDONLY|O_CLOEXEC, resolve=RESOLVE_NO_SYMLINKS, ???}", openat2.GetProperty("args")[2].GetString());
        Assert.Equal("32", openat2.GetProperty("args")[3].GetString());
        Assert.True(openat2.GetProperty("capture_truncated").GetBoolean());

        // io_uring_rsrc_register (32 bytes) at the page's end, passed with size 40: the structure is read
        // whole, the 8 bytes past it are unreadable — ??? where strace shows them too.
        var reg = Assert.Single(run.Failures("io_uring_register", "EOPNOTSUPP"));
        Assert.Equal("IORING_REGISTER_FILES2", reg.GetProperty("args")[1].GetString());
        Assert.Equal("{nr=5, flags=IORING_RSRC_REGISTER_SPARSE, data=NULL, tags=NULL, ???}", reg.GetProperty("args")[2].GetString());
        Assert.True(reg.GetProperty("capture_truncated").GetBoolean());

        // A msghdr that fills the page's last bytes exactly: all of it is readable and decoded.
        var sends = run.Failures("sendmsg", "EBADF").ToList();
        var msg = Assert.Single(sends, s => s.GetProperty("args")[0].GetString() == "-1");
        Assert.Equal("{msg_name=NULL, msg_namelen=0, msg_iov=NULL, msg_iovlen=0, msg_controllen=0, msg_flags=MSG_DONTWAIT}",
            msg.GetProperty("args")[1].GetString());

        // SCM_RIGHTS refused by a Unix socket (descriptor -1): the control buffer msghdr points to is copied
        // as second-level memory and decoded as strace shows it.
        var rights = Assert.Single(sends, s => s.GetProperty("args")[0].GetString() != "-1");
        Assert.Contains("msg_control=[{cmsg_len=24, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[0, -1]}], msg_controllen=24, ",
            rights.GetProperty("args")[1].GetString());
        Assert.Equal("MSG_NOSIGNAL", rights.GetProperty("args")[2].GetString());

        // In/out arguments, copied at sys_enter too: perf_event_open's size as passed, then the size the kernel
        // wrote back (strace's "=>"); capset's header version as passed, not the one the kernel wrote back.
        var e2big = Assert.Single(run.Failures("perf_event_open", "E2BIG"));
        Assert.Matches(@"^\{type=PERF_TYPE_SOFTWARE, size=200 => (\d+)( /\* PERF_ATTR_SIZE_VER\d+ \*/)?, ", e2big.GetProperty("args")[0].GetString()!);
        var capset = Assert.Single(run.Failures("capset", "EINVAL"));
        Assert.Equal("{version=0x12345678 /* _LINUX_CAPABILITY_VERSION_??? */, pid=0}", capset.GetProperty("args")[0].GetString());

        // A string with no NUL before the unmapped page (80 bytes of 'm'): its readable bytes are copied up to the page and
        // shown cut at -s (64 by default), as strace shows them; before, the whole string copy failed and only the address showed.
        var del = Assert.Single(run.Syscalls, l => l.GetProperty("syscall").GetString() == "delete_module");
        Assert.Equal("\"" + new string('m', 64) + "\"...", del.GetProperty("args")[0].GetString());

        // Arrays read by their count: the elements before the page, then strace's "... /* address */" where the memory ends.
        var semop = Assert.Single(run.Syscalls, l => l.GetProperty("syscall").GetString() == "semop");
        Assert.Matches(@"^\[\{sem_num=7, sem_op=-1, sem_flg=SEM_UNDO\}, \.\.\. /\* 0x[0-9a-f]+000 \*/\]$", semop.GetProperty("args")[1].GetString()!);
        var pages = Assert.Single(run.Failures("move_pages", "EFAULT"));
        Assert.Matches(@"^\[0x[0-9a-f]+000, \.\.\. /\* 0x[0-9a-f]+000 \*/\]$", pages.GetProperty("args")[2].GetString()!);
        Assert.Equal("MPOL_MF_MOVE_ALL", pages.GetProperty("args")[5].GetString());

        // Paths at PATH_MAX: 4095 bytes and their NUL fill the capture exactly; the kernel side looks at the byte after
        // them, so the path shows whole, as strace shows it (before: "..." after it); a longer one is cut, with "...".
        var chdirs = run.Failures("chdir", "ENAMETOOLONG").ToList();
        Assert.Equal(2, chdirs.Count);
        Assert.Equal("\"" + new string('a', 4095) + "\"", chdirs[0].GetProperty("args")[0].GetString());
        Assert.Equal("\"" + new string('a', 4095) + "\"...", chdirs[1].GetProperty("args")[0].GetString());
    }
}
