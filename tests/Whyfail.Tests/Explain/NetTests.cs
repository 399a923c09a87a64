#pragma warning disable CA1416 // Linux only
using System.Net;
using System.Net.Sockets;
using Whyfail.Events;
using Xunit;
using static Whyfail.Tests.Explain.Ev;

namespace Whyfail.Tests.Explain;

[Collection("Explain")]
public sealed class NetTests
{
    const int NR_CONNECT = 42, NR_BIND = 49;

    internal static byte[] Sin(IPAddress a, int port)
    {
        var b = new byte[16];
        b[0] = 2;
        b[2] = (byte)(port >> 8); b[3] = (byte)port;
        a.GetAddressBytes().CopyTo(b, 4);
        return b;
    }

    /// <summary>A struct sockaddr_in6 (28 bytes, with the address's scope id).</summary>
    internal static byte[] Sin6(IPAddress a, int port)
    {
        var b = new byte[28];
        b[0] = 10;
        b[2] = (byte)(port >> 8); b[3] = (byte)port;
        a.GetAddressBytes().CopyTo(b, 8);
        BitConverter.GetBytes((uint)a.ScopeId).CopyTo(b, 24);
        return b;
    }

    internal static byte[] Sun(string path)
    {
        var p = System.Text.Encoding.UTF8.GetBytes(path);
        var b = new byte[2 + p.Length + 1];
        b[0] = 1;
        p.CopyTo(b, 2);
        return b;
    }

    /// <summary>A TCP port nothing listens on (bound, then closed) on <paramref name="on"/> (default 127.0.0.1).</summary>
    internal static int ClosedPort(IPAddress? on = null)
    {
        var l = new TcpListener(on ?? IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    [Fact]
    public void Econnrefused_when_nothing_listens()
    {
        int port = ClosedPort();
        using var p = Actor.Python($"s = socket.socket()\nt(s.connect, ('127.0.0.1', {port}))");
        Assert.Equal(111, p.Errno());

        var e = One(Run(p.Event("connect", NR_CONNECT, 111, [3, 0, 16], [Bytes(1, Sin(IPAddress.Loopback, port), CaptureKind.Sized)])), "net.connection_refused");
        Assert.Equal($"nothing is listening on 127.0.0.1:{port}: no TCP socket is in LISTEN state on port {port} in this network namespace", e.Text);
        Assert.True(e.Certain);
    }

    [Fact]
    public void Econnrefused_when_the_port_listens_on_another_address()
    {
        var l = new TcpListener(IPAddress.IPv6Loopback, 0);
        l.Server.DualMode = false;
        l.Start();
        try
        {
            int port = ((IPEndPoint)l.LocalEndpoint).Port;
            using var p = Actor.Python($"s = socket.socket()\nt(s.connect, ('127.0.0.1', {port}))");
            Assert.Equal(111, p.Errno());
            var e = One(Run(p.Event("connect", NR_CONNECT, 111, [3, 0, 16], [Bytes(1, Sin(IPAddress.Loopback, port), CaptureKind.Sized)])), "net.connection_refused");
            Assert.Contains($"nothing is listening on 127.0.0.1:{port}: port {port} is served only on [::1]:{port} (pid {Environment.ProcessId} (", e.Text);
        }
        finally { l.Stop(); }
    }

    [Fact]
    public void Eaddrinuse_names_the_holder()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        try
        {
            int port = ((IPEndPoint)l.LocalEndpoint).Port;
            using var p = Actor.Python($"s = socket.socket()\nt(s.bind, ('127.0.0.1', {port}))");
            Assert.Equal(98, p.Errno());
            var e = One(Run(p.Event("bind", NR_BIND, 98, [3, 0, 16], [Bytes(1, Sin(IPAddress.Loopback, port), CaptureKind.Sized)])), "net.address_in_use");
            Assert.Contains($"port {port} is already in use for 127.0.0.1: TCP 127.0.0.1:{port} (LISTEN) held by pid {Environment.ProcessId} (", e.Text);
            Assert.StartsWith($"stop pid {Environment.ProcessId}", e.Fix);
        }
        finally { l.Stop(); }
    }

    [Fact]
    public void Eacces_bind_below_the_unprivileged_port_start()
    {
        long start = Whyfail.Analysis.Explain.ProcFs.ReadLong("/proc/sys/net/ipv4/ip_unprivileged_port_start") ?? 1024;
        if (start <= 1) return; // every port is unprivileged here
        int port = (int)Math.Min(80, start - 1);
        using var p = Actor.Python($"s = socket.socket()\nt(s.bind, ('127.0.0.1', {port}))");
        Assert.Equal(13, p.Errno());

        var e = One(Run(p.Event("bind", NR_BIND, 13, [3, 0, 16], [Bytes(1, Sin(IPAddress.Loopback, port), CaptureKind.Sized)])), "net.privileged_port");
        Assert.Contains($"port {port} is below net.ipv4.ip_unprivileged_port_start ({start}), and pid {p.Pid} (nobody (uid 65534)) does not have CAP_NET_BIND_SERVICE", e.Text);
    }

    [Fact]
    public void Econnrefused_on_a_stale_unix_socket_and_eaddrinuse_on_rebinding_it()
    {
        using var d = new TempDir();
        d.Dir("run", 0x1FF);
        var path = d["run/app.sock"];
        using var p = Actor.Python($"""
s1 = socket.socket(socket.AF_UNIX)
s1.bind('{path}')
s1.close()
s2 = socket.socket(socket.AF_UNIX)
t(s2.connect, '{path}')
s3 = socket.socket(socket.AF_UNIX)
t(s3.bind, '{path}')
""");
        Assert.Equal(111, p.Errno(0));
        Assert.Equal(98, p.Errno(1));

        var e = One(Run(p.Event("connect", NR_CONNECT, 111, [4, 0, 0], [Bytes(1, Sun(path), CaptureKind.Sized)])), "net.connection_refused");
        Assert.Contains($"\"{path}\" is a socket file, but no process is listening on it", e.Text);
        var b = One(Run(p.Event("bind", NR_BIND, 98, [5, 0, 0], [Bytes(1, Sun(path), CaptureKind.Sized)])), "net.address_in_use");
        Assert.Contains($"the socket file \"{path}\" already exists and nothing listens on it", b.Text);
    }

    [Fact]
    public void Enoent_on_connect_to_a_missing_unix_socket()
    {
        using var d = new TempDir();
        var path = d["missing.sock"];
        using var p = Actor.Python($"s = socket.socket(socket.AF_UNIX)\nt(s.connect, '{path}')");
        Assert.Equal(2, p.Errno());
        var e = One(Run(p.Event("connect", NR_CONNECT, 2, [3, 0, 0], [Bytes(1, Sun(path), CaptureKind.Sized)])), "path.missing_component");
        Assert.Contains($"\"{path}\" does not exist", e.Text);
    }

    [Fact]
    public void Eaddrnotavail_on_bind_to_an_address_this_machine_does_not_have()
    {
        // 198.51.100.77 is in TEST-NET-2 (RFC 5737), reserved for documentation: not an address of this machine
        var addr = IPAddress.Parse("198.51.100.77");
        using var p = Actor.Python("s = socket.socket(socket.AF_INET)\nt(s.bind, ('198.51.100.77', 8080))");
        Assert.Equal(99, p.Errno());

        var e = One(Run(p.Event("bind", NR_BIND, 99, [3, 0, 16], [Bytes(1, Sin(addr, 8080), CaptureKind.Sized)])), "net.address_not_available");
        Assert.StartsWith("198.51.100.77 is not an address of this machine in pid ", e.Text);
        Assert.Contains("127.0.0.1", e.Text);
        Assert.True(e.Certain);
    }
}
