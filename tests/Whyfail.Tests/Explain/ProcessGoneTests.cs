#pragma warning disable CA1416 // Linux only
using System.Net;
using Whyfail.Events;
using Xunit;
using static Whyfail.Tests.Explain.Ev;

namespace Whyfail.Tests.Explain;

/// <summary>
/// A failure explained after its process exited, with nothing captured at the failure (an error delivered as data has
/// no failing return for the kernel side to capture at): the process.gone note, and the lower certainty that comes with
/// it, only where a rule needed what went with the process, and it names that; or where no rule found a cause.
/// </summary>
[Collection("Explain")]
public sealed class ProcessGoneTests
{
    /// <summary>
    /// A real non-blocking connect to a closed port, its outcome read with getsockopt(SO_ERROR); the process then exits.
    /// Returns the getsockopt failure as the capture reports it, with the address of the connect when
    /// <paramref name="connectSeen"/>, and the pid and port.
    /// </summary>
    static (SyscallEvent Ev, int Pid, int Fd, int Port) RefusedThenGone(IPAddress to, bool connectSeen = true)
    {
        bool v6 = to.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        int port = NetTests.ClosedPort(to);
        int pid, fd;
        using (var p = Actor.Python($"""
s = socket.socket(socket.{(v6 ? "AF_INET6" : "AF_INET")})
s.setblocking(False)
try:
    s.connect(('{to}', {port}))
except BlockingIOError:
    pass
import select
select.select([], [s], [], 5)
say(s.fileno())
say(s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
"""))
        {
            Assert.Equal("111", p.Said[1]); // ECONNREFUSED, delivered as data
            (pid, fd) = (p.Pid, int.Parse(p.Said[0]));
        }
        var ev = Make(pid, Actor.Nobody, Actor.Nobody, "getsockopt", 55, 111, [(ulong)fd, 1, 4, 0, 0], []);
        ev.ErrorAsData = true;
        ev.ConnectedTo = !connectSeen ? null : v6 ? NetTests.Sin6(to, port) : NetTests.Sin(to, port);
        // the namespace the connect ran in, as its context names it (this test's: "net:[N]")
        ev.ConnectedNetNs = !connectSeen ? 0 : uint.Parse(new FileInfo("/proc/self/ns/net").LinkTarget![5..^1], System.Globalization.CultureInfo.InvariantCulture);
        return (ev, pid, fd, port);
    }

    [Theory]
    [InlineData("127.0.0.1", "127.0.0.1:{0}")]
    [InlineData("::1", "[::1]:{0}")]
    public void A_refused_connection_read_from_SO_ERROR_needs_nothing_of_the_gone_process(string address, string endpoint)
    {
        var (ev, _, fd, port) = RefusedThenGone(IPAddress.Parse(address));
        var ex = Run(ev);
        var e = One(ex, "net.connection_refused");
        var ep = string.Format(System.Globalization.CultureInfo.InvariantCulture, endpoint, port);
        Assert.Equal($"the connection that descriptor {fd} started (connect to {ep}, which returned at once and left the outcome to SO_ERROR) was refused: " +
                     $"nothing is listening on {ep}: no TCP socket is in LISTEN state on port {port} in this network namespace", e.Text);
        Assert.True(e.Certain);
        Assert.DoesNotContain(ex, x => x.Rule == "process.gone");
    }

    [Fact]
    public void A_refusal_whose_network_namespace_is_not_known_is_read_in_this_one_as_a_guess()
    {
        // The connect was seen but its namespace was not (no context: lockdown, or a record lost): the listeners are read
        // in whyfail's own namespace, which the process may not have been in, so the answer is qualified.
        var (ev, pid, _, port) = RefusedThenGone(IPAddress.Loopback);
        ev.ConnectedNetNs = 0;
        var ex = Run(ev);
        var e = One(ex, "net.connection_refused");
        Assert.Contains($"no TCP socket is in LISTEN state on port {port} in this network namespace", e.Text);
        Assert.False(e.Certain);
        Assert.Equal($"pid {pid} has exited, so this could not be checked against its live state, and no state was captured at the failure: its network namespace could not be checked",
            One(ex, "process.gone").Text);
    }

    [Fact]
    public void No_rule_finding_a_cause_keeps_the_note_and_names_what_a_rule_missed()
    {
        // The same real refusal, but the connect was not seen: the rule has no address, and looks for a connected UDP
        // socket behind the descriptor instead, which went with the process.
        var (ev, pid, fd, _) = RefusedThenGone(IPAddress.Loopback, connectSeen: false);
        var ex = Run(ev);
        Assert.Equal("unknown", ex[0].Rule);
        Assert.Equal($"pid {pid} has exited, so this could not be checked against its live state, and no state was captured at the failure: descriptor {fd} could not be checked",
            One(ex, "process.gone").Text);
        Assert.All(ex, x => Assert.False(x.Certain));
    }

    [Fact]
    public void No_rule_for_the_error_keeps_the_general_note()
    {
        int pid;
        using (var p = Actor.Python("t(socket.socket, socket.AF_INET, socket.SOCK_STREAM, 17)")) // UDP over a stream socket
        {
            Assert.Equal(93, p.Errno()); // EPROTONOSUPPORT
            pid = p.Pid;
        }
        var ex = Run(Make(pid, Actor.Nobody, Actor.Nobody, "socket", 41, 93, [2, 1, 17], []));
        Assert.Equal("unknown", ex[0].Rule);
        Assert.StartsWith($"pid {pid} has exited, so this could not be checked against its live state (cwd, root, credentials, descriptors, mounts)", One(ex, "process.gone").Text);
    }

    [Fact]
    public void A_path_walked_from_this_machines_root_names_what_was_taken_for_the_process()
    {
        using var d = new TempDir();
        var path = d["missing.conf"];
        int pid;
        using (var p = Actor.Python($"t(os.open, '{path}', os.O_RDONLY)"))
        {
            Assert.Equal(2, p.Errno());
            pid = p.Pid;
        }
        var ex = Run(Make(pid, Actor.Nobody, Actor.Nobody, "openat", 257, 2, [AT_FDCWD, 0, 0, 0],
            [new(1, CaptureKind.String, 0, System.Text.Encoding.UTF8.GetBytes(path), 0)]));
        Assert.False(One(ex, "path.missing_component").Certain);
        var g = One(ex, "process.gone");
        Assert.StartsWith($"pid {pid} has exited, so this could not be checked against its live state, and no state was captured at the failure: ", g.Text);
        Assert.Contains("the process's root directory", g.Text);
        Assert.Contains("its credentials beyond the event's user and group ids", g.Text);
        Assert.EndsWith("; absolute paths were checked against this machine's root and the event's ids", g.Text);
    }

    [Fact]
    public void A_descriptor_that_went_with_the_process_is_named()
    {
        int fd, pid;
        using (var p = Actor.Python("r, w = os.pipe()\nsay(w)\nt(os.lseek, w, 0, os.SEEK_SET)"))
        {
            Assert.Equal(29, p.Errno()); // ESPIPE
            (fd, pid) = (int.Parse(p.Said[0]), p.Pid);
        }
        var g = One(Run(Make(pid, Actor.Nobody, Actor.Nobody, "lseek", 8, 29, [(ulong)fd, 0, 0], [])), "process.gone");
        Assert.Contains($"descriptor {fd}", g.Text);
        Assert.DoesNotContain("absolute paths", g.Text);
    }
}
