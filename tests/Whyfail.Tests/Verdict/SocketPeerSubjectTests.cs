using System.Net;
using System.Text;
using Whyfail.Analysis;
using Whyfail.Analysis.Verdict;
using Whyfail.Events;
using Whyfail.Tests.Explain;
using Xunit;

namespace Whyfail.Tests.Verdict;

/// <summary>
/// An error a socket delivers as data (getsockopt SO_ERROR after a non-blocking connect) is about the address that
/// connect named: the analysis hands it on (<see cref="SyscallEvent.ConnectedTo"/>), and the verdict's subject of the
/// failure is built from it, spelled as the connect's own subject spells it (the decoded struct sockaddr).
/// </summary>
public class SocketPeerSubjectTests
{
    private const int Fd = 5, Pid = 4242;

    private static byte[] Sockaddr(string address, int port)
    {
        var a = IPAddress.Parse(address);
        return a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? NetTests.Sin6(a, port) : NetTests.Sin(a, port);
    }

    /// <summary>connect(5, {…}, len) = -1 EINPROGRESS, as the capture reports it.</summary>
    private static SyscallEvent Connect(byte[] sa, ulong ts) => new()
    {
        Nr = 42, Ret = -115, KernelRet = -115, Pid = Pid, Tid = Pid, Comm = "peer", TimestampNs = ts,
        Args = [Fd, 0x1000, (ulong)sa.Length, 0, 0, 0],
        Captured = [new CapturedArg(1, CaptureKind.Sized, 0, sa, sa.Length)],
    };

    /// <summary>getsockopt(5, SOL_SOCKET, SO_ERROR, [ECONNREFUSED], [4]) = 0: the error delivered as data.</summary>
    private static SyscallEvent SoError(ulong ts) => new()
    {
        Nr = 55, Ret = -111, KernelRet = 0, ErrorAsData = true, Pid = Pid, Tid = Pid, Comm = "peer", TimestampNs = ts,
        Args = [Fd, 1, 4, 0x2000, 0x3000, 0],
    };

    [Theory]
    [InlineData("127.0.0.1", 1, "127.0.0.1")]
    [InlineData("::1", 1, "::1")]
    [InlineData("10.1.2.3", 8080, "10.1.2.3")]
    [InlineData("2001:db8::1", 443, "2001:db8::1")]
    [InlineData("::ffff:192.0.2.7", 80, "::ffff:192.0.2.7")]
    [InlineData("fe80::1%2", 22, "fe80::1")]
    public void ThePeerIsSpelledAsTheConnectItselfHadIt(string address, int port, string spelled)
    {
        var pipeline = new AnalysisPipeline(new AnalysisOptions(Explain: false));
        var connect = Connect(Sockaddr(address, port), 1);
        var soError = SoError(2);
        pipeline.Process(connect);
        pipeline.Process(soError);

        Assert.NotNull(soError.ConnectedTo);
        var fromConnect = FailureSubject.Of(connect);
        var peer = FailureSubject.OfPeer(soError);
        Assert.Equal(fromConnect, peer);
        Assert.Equal(spelled, peer!.Address);
        Assert.Equal(port.ToString(System.Globalization.CultureInfo.InvariantCulture), peer.Port);
    }

    [Fact]
    public void NoConnectSeenNoPeer()
    {
        var pipeline = new AnalysisPipeline(new AnalysisOptions(Explain: false));
        var soError = SoError(2);
        pipeline.Process(soError);
        Assert.Null(soError.ConnectedTo);
        Assert.Null(FailureSubject.OfPeer(soError));
    }

    /// <summary>
    /// The verdict links a message that names only the address ("could not reach [::1]:P") to the SO_ERROR failure, whose
    /// own arguments hold no address: its subject is the peer.
    /// </summary>
    [Theory]
    [InlineData("127.0.0.1", "127.0.0.1:4001")]
    [InlineData("::1", "[::1]:4001")]
    public void AMessageNamingThePeerIsLinkedToTheErrorDeliveredAsData(string address, string endpoint)
    {
        var pipeline = new AnalysisPipeline(new AnalysisOptions(Explain: false));
        var released = new List<SyscallEvent>();
        var tracker = new FailureTracker(released.Add, _ => { }, launcherPid: null);
        var connect = Connect(Sockaddr(address, 4001), 1_000);
        var soError = SoError(2_000);
        foreach (var ev in new[] { connect, soError })
        {
            pipeline.Process(ev);
            tracker.Add(ev, show: true);
        }
        tracker.Message(new MessageWrite(3_000, Pid, Pid, 2, "write", 0, "peer", Encoding.UTF8.GetBytes($"could not reach {endpoint}\n")));
        tracker.Finish(0);

        var linked = Assert.Single(released, e => e.Consequence?.Message != null);
        Assert.Same(soError, linked);
        Assert.Equal($"could not reach {endpoint}", linked.Consequence!.Message);
    }
}
