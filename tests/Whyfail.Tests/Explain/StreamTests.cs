#pragma warning disable CA1416 // Linux only
using Xunit;
using static Whyfail.Tests.Explain.Ev;

namespace Whyfail.Tests.Explain;

/// <summary>
/// Errors that are answers, not faults: no controlling terminal, a stream that cannot seek, a path that is not a
/// symbolic link, a non-blocking connect under way, a descriptor probe. Each from a real python process.
/// </summary>
[Collection("Explain")]
public sealed class StreamTests
{
    const int NR_LSEEK = 8, NR_PREAD64 = 17, NR_CONNECT = 42, NR_FCNTL = 72, NR_READLINK = 89, NR_MKDIR = 83, NR_OPENAT = 257;

    [Fact]
    public void Opening_dev_tty_without_a_controlling_terminal()
    {
        // setsid: a new session, which has no controlling terminal (also when the tests run in a terminal).
        using var p = Actor.Python("t(os.open, '/dev/tty', os.O_RDWR | os.O_NONBLOCK)", uid: null, prefix: ["setsid"]);
        Assert.Equal(6, p.Errno()); // ENXIO
        var e = One(Run(p.Event("openat", NR_OPENAT, 6, [AT_FDCWD, 0, 0x802, 0], (1, "/dev/tty"))), "tty.none");
        Assert.StartsWith($"pid {p.Pid} has no controlling terminal (its session, led by pid {p.Pid} (python3), has none), and \"/dev/tty\" always means the caller's controlling terminal, so opening it fails with ENXIO; ", e.Text);
        Assert.StartsWith("if it needs to prompt, run it from a terminal", e.Fix);
    }

    [Fact]
    public void Seeking_a_pipe_is_not_possible_and_an_lseek_probe_is_an_answer()
    {
        using var p = Actor.Python("r, w = os.pipe()\nsay(r)\nt(os.lseek, r, 0, os.SEEK_CUR)\nt(os.pread, r, 1, 5)");
        Assert.Equal(29, p.Errno(0)); // ESPIPE
        Assert.Equal(29, p.Errno(1));
        int r = int.Parse(p.Said[0]);
        var probe = One(Run(p.Event("lseek", NR_LSEEK, 29, [(ulong)r, 0, 1])), "fd.not_seekable");
        Assert.Matches($@"^descriptor {r} is a pipe \(pipe:\[\d+\]\): a stream without a file position, so lseek cannot seek or use an offset in it; lseek\(fd, 0, SEEK_CUR\) is how programs test whether a descriptor is a regular file, and the answer was no$", probe.Text);
        Assert.Null(probe.Fix);
        var pread = One(Run(p.Event("pread64", NR_PREAD64, 29, [(ulong)r, 0, 1, 5])), "fd.not_seekable");
        Assert.EndsWith("so pread64 cannot seek or use an offset in it", pread.Text);
        Assert.Equal("read and write it sequentially, or copy it to a regular file first when the program needs to seek", pread.Fix);
    }

    [Fact]
    public void Readlink_of_a_regular_file_says_it_is_not_a_symbolic_link()
    {
        using var d = new TempDir();
        var f = d.File_("plain.txt");
        using var p = Actor.Python($"t(os.readlink, '{f}')");
        Assert.Equal(22, p.Errno()); // EINVAL
        var e = One(Run(p.Event("readlink", NR_READLINK, 22, [0, 0, 4096], (0, f))), "path.not_symlink");
        Assert.StartsWith($"\"{f}\" is a regular file, not a symbolic link, so there is no link target to read", e.Text);
        Assert.Null(e.Fix);
    }

    /// <summary>A relative path of a process that is gone cannot be walked; readlink's EINVAL and mkdir's EEXIST still have one meaning.</summary>
    [Fact]
    public void Relative_paths_of_a_gone_process_are_explained_from_the_errno()
    {
        using var d = new TempDir();
        d.File_("plain.txt");
        d.Dir("sub");
        int pid;
        Whyfail.Events.SyscallEvent readlink, mkdir;
        using (var p = Actor.Python("t(os.readlink, 'plain.txt')\nt(os.mkdir, 'sub')", cwd: d.Path))
        {
            Assert.Equal(22, p.Errno(0));
            Assert.Equal(17, p.Errno(1));
            pid = p.Pid;
            readlink = p.Event("readlink", NR_READLINK, 22, [0, 0, 64], (0, "plain.txt"));
            mkdir = p.Event("mkdir", NR_MKDIR, 17, [0, 0x1ff], (0, "sub"));
        }
        var r = One(Run(readlink), "path.not_symlink");
        Assert.StartsWith("\"plain.txt\" was not a symbolic link when the call ran (with a positive buffer size, readlink fails with EINVAL for nothing else)", r.Text);
        Assert.True(r.Certain);
        var m = One(Run(mkdir), "path.exists");
        Assert.Equal($"\"sub\" already existed when the call ran (mkdir fails with EEXIST for nothing else); pid {pid} is gone, so what it is could not be seen", m.Text);
        Assert.Equal("if an existing directory is fine, treat EEXIST as success (like mkdir -p)", m.Fix);
    }

    [Fact]
    public void A_non_blocking_connect_under_way_is_not_a_failure()
    {
        using var p = Actor.Python("l = socket.socket()\nl.bind(('127.0.0.1', 0))\nl.listen()\ns = socket.socket()\ns.setblocking(False)\nsay(s.fileno())\nt(s.connect, ('127.0.0.1', l.getsockname()[1]))");
        Assert.Equal(115, p.Errno()); // EINPROGRESS
        int fd = int.Parse(p.Said[0]);
        var e = One(Run(p.Event("connect", NR_CONNECT, 115, [(ulong)fd, 0, 16])), "net.connect_in_progress");
        Assert.StartsWith($"socket {fd} is non-blocking (O_NONBLOCK), so connect started the connection and returned at once", e.Text);
        Assert.Contains("SO_ERROR", e.Fix);
    }

    [Fact]
    public void An_fcntl_probe_of_a_closed_descriptor_is_an_answer_also_after_the_process_is_gone()
    {
        int pid;
        Whyfail.Events.SyscallEvent ev;
        using (var p = Actor.Python("t(fcntl.fcntl, 255, fcntl.F_GETFD)"))
        {
            Assert.Equal(9, p.Errno()); // EBADF
            var alive = One(Run(p.Event("fcntl", NR_FCNTL, 9, [255, 1, 0])), "fd.bad");
            Assert.Matches(@"^descriptor 255 \(argument 0\) is not open in pid \d+ \(open now: .*\); fcntl\(F_GETFD\) is how programs test whether a descriptor is open, and the answer was no$", alive.Text);
            Assert.Null(alive.Fix);
            pid = p.Pid;
            ev = p.Event("fcntl", NR_FCNTL, 9, [255, 1, 0]);
        }
        // gone: the errno alone still says it
        var gone = One(Run(ev), "fd.bad");
        Assert.Equal($"descriptor 255 (argument 0) was not open in pid {pid} when the call ran: fcntl fails with EBADF for nothing else; fcntl(F_GETFD) is how programs test whether a descriptor is open, and the answer was no", gone.Text);
    }
}
