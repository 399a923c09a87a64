#pragma warning disable CA1416 // Linux only
using Xunit;
using static Whyfail.Tests.Explain.Ev;

namespace Whyfail.Tests.Explain;

[Collection("Explain")]
public sealed class FdTests
{
    const int NR_READ = 0, NR_WRITE = 1, NR_OPENAT = 257, NR_IOCTL = 16, NR_COPY_FILE_RANGE = 326;

    [Fact]
    public void Enotty_of_a_terminal_request_on_a_pipe_and_a_file_says_it_is_not_a_terminal()
    {
        using var d = new TempDir();
        var f = d.File_("plain.txt");
        using var p = Actor.Python($"r, w = os.pipe()\nsay(w)\nt(fcntl.ioctl, w, termios.TCGETS, bytes(64))\nfd = os.open('{f}', os.O_RDONLY)\nsay(fd)\nt(fcntl.ioctl, fd, termios.TIOCGWINSZ, bytes(8))");
        Assert.Equal(25, p.Errno(0));
        Assert.Equal(25, p.Errno(1));
        int w = int.Parse(p.Said[0]), fd = int.Parse(p.Said[1]);
        var pipe = One(Run(p.Event("ioctl", NR_IOCTL, 25, [(ulong)w, 0x5401, 0])), "ioctl.not_supported");
        Assert.Matches($@"^descriptor {w} \(a pipe, pipe:\[\d+\]\) is not a terminal, and TCGETS is a terminal request: the program asked whether it writes to or reads from a terminal \(isatty\(\) and window-size queries do this\) and the answer is no; ", pipe.Text);
        Assert.Null(pipe.Fix);
        Assert.True(pipe.Certain);
        var file = One(Run(p.Event("ioctl", NR_IOCTL, 25, [(ulong)fd, 0x5413, 0])), "ioctl.not_supported");
        Assert.StartsWith($"descriptor {fd} (\"{f}\") is not a terminal, and TIOCGWINSZ is a terminal request", file.Text);
    }

    [Fact]
    public void Enotty_of_another_request_or_on_the_wrong_terminal_says_the_driver_does_not_know_it()
    {
        using var p = Actor.Python("r, w = os.pipe()\nsay(r)\nt(fcntl.ioctl, r, 0x80086601, bytes(8))\nm, s = os.openpty()\nsay(s)\nt(fcntl.ioctl, s, 0x80045430, bytes(4))");
        Assert.Equal(25, p.Errno(0));
        Assert.Equal(25, p.Errno(1));
        int r = int.Parse(p.Said[0]), slave = int.Parse(p.Said[1]);
        var pipe = One(Run(p.Event("ioctl", NR_IOCTL, 25, [(ulong)r, 0x80086601, 0])), "ioctl.not_supported");
        Assert.Matches($@"^descriptor {r} \(a pipe, pipe:\[\d+\]\) does not support the ioctl request FS_IOC_GETFLAGS: its driver or file system does not know this request, which is meant for another kind of device or file$", pipe.Text);
        Assert.Equal("check that the descriptor is the device or file the request is meant for", pipe.Fix);
        // TIOCGPTN asks a pseudo-terminal master for its number; the slave is a terminal, but not that kind.
        var pts = One(Run(p.Event("ioctl", NR_IOCTL, 25, [(ulong)slave, 0x80045430, 0])), "ioctl.not_supported");
        Assert.Matches($@"^descriptor {slave} \(""/dev/pts/\d+""\) does not support the ioctl request TIOCGPTN: .* \(a terminal, but not one of the kind the request is for, such as a pseudo-terminal master\)$", pts.Text);
    }

    [Fact]
    public void Emfile_compares_open_descriptors_with_the_soft_limit()
    {
        using var p = Actor.Python("""
resource.setrlimit(resource.RLIMIT_NOFILE, (32, 4096))
fds = []
while True:
    try:
        fds.append(os.open('/dev/null', os.O_RDONLY))
    except OSError as e:
        print(e.errno, flush=True)
        break
""");
        Assert.Equal(24, p.Errno());

        var e = One(Run(p.Event("openat", NR_OPENAT, 24, [AT_FDCWD, 0, 0, 0], (1, "/dev/null"))), "fd.limit");
        Assert.Matches(@"has 3\d descriptors open and its RLIMIT_NOFILE soft limit is 32 \(hard limit 4096\), so no descriptor number below 32 is free", e.Text);
        Assert.Contains("\"/dev/null\" (", e.Text); // the most common target
        Assert.StartsWith("raise the soft limit (ulimit -n 4096", e.Fix);
        Assert.True(e.Certain);
    }

    [Fact]
    public void Ebadf_for_a_descriptor_that_is_not_open()
    {
        using var p = Actor.Python("t(os.read, 57, 10)");
        Assert.Equal(9, p.Errno());

        var e = One(Run(p.Event("read", NR_READ, 9, [57, 0, 10])), "fd.bad");
        Assert.Contains($"descriptor 57 (argument 0) is not open in pid {p.Pid} (open now: 0-2", e.Text);
    }

    [Fact]
    public void Ebadf_for_a_write_on_a_read_only_descriptor()
    {
        using var d = new TempDir();
        var f = d.File_("data.bin", "abc", 0x1B6);
        using var p = Actor.Python($"fd = os.open('{f}', os.O_RDONLY)\nsay(fd)\nt(os.write, fd, b'x')");
        Assert.Equal(9, p.Errno());
        int fd = int.Parse(p.Said[0]);

        var e = One(Run(p.Event("write", NR_WRITE, 9, [(ulong)fd, 0, 1])), "fd.bad");
        Assert.Contains($"descriptor {fd} refers to \"{f}\", and it was opened read-only (O_RDONLY), so it cannot be written", e.Text);
    }

    [Fact]
    public void Ebadf_for_minus_one()
    {
        using var p = Actor.Python("t(os.read, -1, 10)");
        Assert.Equal(9, p.Errno());
        var e = One(Run(p.Event("read", NR_READ, 9, [unchecked((ulong)-1L), 0, 10])), "fd.bad");
        Assert.Contains("argument 0 is -1, which is never a valid descriptor", e.Text);
    }

    [Fact]
    public void Unknown_cause_says_what_was_checked()
    {
        using var d = new TempDir();
        var f = d.File_("plain.txt", "x", 0x1B6);
        // copy_file_range between a file and itself, overlapping: EINVAL, which no rule covers for this call.
        using var p = Actor.Python($"fd = os.open('{f}', os.O_RDWR)\nsay(fd)\nt(os.copy_file_range, fd, fd, 1, 0, 0)");
        Assert.Equal(22, p.Errno());
        int fd = int.Parse(p.Said[0]);

        var ex = Run(p.Event("copy_file_range", NR_COPY_FILE_RANGE, 22, [(ulong)fd, 0, (ulong)fd, 0, 1, 0]));
        var e = Assert.Single(ex);
        Assert.Equal("unknown", e.Rule);
        Assert.False(e.Certain);
        Assert.StartsWith("no rule matched EINVAL from copy_file_range; checked: the rule list (no rule covers EINVAL from copy_file_range)", e.Text);
        Assert.Contains($"descriptor {fd} is open now on \"{f}\" (regular file, read-write (O_RDWR))", e.Text);
    }

    [Fact]
    public void A_reused_pid_is_not_taken_for_the_process_of_the_event()
    {
        using var d = new TempDir();
        using var p = Actor.Python("pass");
        var ev = new Whyfail.Events.SyscallEvent
        {
            Pid = p.Pid, Tid = p.Pid, Uid = Actor.Nobody, Euid = Actor.Nobody, Syscall = "openat", Nr = NR_OPENAT, Ret = -2,
            TimestampNs = 1_000, // long before this process started
            Args = [AT_FDCWD, 0, 0, 0, 0, 0],
            Captured = [new(1, Whyfail.Events.CaptureKind.String, 0, System.Text.Encoding.UTF8.GetBytes($"{d.Path}/nothing"), 0)],
        };
        var ex = Run(ev);
        Assert.Contains("(the pid now belongs to a newer process)", One(ex, "process.gone").Text);
        Assert.All(ex, e => Assert.False(e.Certain));
    }

    [Fact]
    public void A_gone_process_is_reported_as_not_checked_live()
    {
        using var d = new TempDir();
        d.Dir("etc");
        int pid;
        using (var p = Actor.Python($"t(os.open, '{d.Path}/etc/missing.conf', os.O_RDONLY)"))
        {
            Assert.Equal(2, p.Errno());
            pid = p.Pid;
        }
        var ev = Make(pid, Actor.Nobody, Actor.Nobody, "openat", NR_OPENAT, 2, [AT_FDCWD, 0, 0, 0],
            [new(1, Whyfail.Events.CaptureKind.String, 0, System.Text.Encoding.UTF8.GetBytes($"{d.Path}/etc/missing.conf"), 0)]);
        var ex = Run(ev);
        var m = One(ex, "path.missing_component");
        Assert.False(m.Certain);
        Assert.Contains($"\"{d.Path}/etc/missing.conf\" does not exist", m.Text);
        var g = One(ex, "process.gone");
        Assert.Contains($"pid {pid} has exited, so this could not be checked against its live state", g.Text);
    }
}

/// <summary>Writes that fail because of the other end or a limit: EPIPE without a reader, EFBIG past RLIMIT_FSIZE.</summary>
[Collection("Explain")]
public sealed class WriteLimitTests
{
    const int NR_WRITE = 1;

    [Fact]
    public void Epipe_names_the_pipe_without_reader_and_the_ignored_sigpipe()
    {
        // python3 ignores SIGPIPE itself
        using var p = Actor.Python("r, w = os.pipe()\nos.close(r)\nsay(w)\nt(os.write, w, b'x')");
        Assert.Equal(32, p.Errno());
        int fd = int.Parse(p.Said[0]);

        var e = One(Run(p.Event("write", NR_WRITE, 32, [(ulong)fd, 0, 1])), "pipe.no_reader");
        Assert.Matches($@"^descriptor {fd} is the write end of the pipe pipe:\[\d+\], and no process has its read end open any more \(the reader closed it or exited\); pid {p.Pid} ignores SIGPIPE, so it got EPIPE instead of being killed$", e.Text);
        Assert.True(e.Certain);
    }

    [Fact]
    public void Efbig_names_rlimit_fsize_and_the_offset()
    {
        using var d = new TempDir();
        var f = d["big.bin"];
        using var p = Actor.Python($"""
signal = __import__('signal')
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))
fd = os.open('{f}', os.O_WRONLY | os.O_CREAT, 0o644)
os.write(fd, b'x' * 1024)
say(fd)
t(os.write, fd, b'y')
""", uid: null);
        Assert.Equal(27, p.Errno());
        int fd = int.Parse(p.Said[0]);

        var e = One(Run(p.Event("write", NR_WRITE, 27, [(ulong)fd, 0, 1])), "file.size_limit");
        Assert.Equal($"pid {p.Pid}'s RLIMIT_FSIZE soft limit is 1024 bytes (hard limit 1024), and write would make the file larger for \"{f}\" (descriptor {fd}, at offset 1024); pid {p.Pid} ignores SIGXFSZ, so it got EFBIG instead of being killed", e.Text);
        Assert.StartsWith("raise it (ulimit -f unlimited", e.Fix);
    }
}
