using System.Net;
using Whyfail.Events;
using static Whyfail.Analysis.Explain.Words;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// ECONNREFUSED: for connect, whether anything listens on the address in the process's network namespace (and
/// on which addresses the port is served instead); for Unix sockets, a stale socket file or a non-socket; for a
/// connected UDP socket, the peer port that answered "port unreachable".
/// </summary>
public sealed class ConnectionRefused : IExplainRule
{
    public string Id => "net.connection_refused";

    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.ECONNREFUSED;

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        if (ev.Syscall == "connect")
        {
            var sa = SockAddr.Decode(ev.Capture(1)?.Data);
            if (sa is null) { proc.Checked.Add("the address (not captured)"); yield break; }
            var e = sa.IsUnix ? Unix(ev, proc, sa) : sa.IsInet ? Inet(proc, sa) : null;
            if (e != null) yield return e;
            yield break;
        }
        // A non-blocking connect's outcome, read with getsockopt SO_ERROR: the address its connect() named.
        if (ev.ErrorAsData && ev.ConnectedTo is { } named)
        {
            if (SockAddr.Decode(named) is { IsInet: true } sa && Inet(proc, sa) is { } e)
                yield return e with { Text = $"the connection that descriptor {SyscallArgs.Int(ev, 0)} started (connect to {Net.Endpoint(sa.Plain!, sa.Port)}, which returned at once and left the outcome to SO_ERROR) was refused: {e.Text}" };
            yield break;
        }
        // A connected UDP socket: a previous datagram drew an ICMP port unreachable.
        if (SyscallArgs.FdArgs(ev) is [var i, ..] && proc.Fd(SyscallArgs.Int(ev, i)) is { } fd && SocketInode(fd.Target) is { } ino)
        {
            var s = Net.Sockets(proc, "udp", "udp6").FirstOrDefault(x => x.Inode == ino);
            if (s is null || s.RemotePort == 0) yield break;
            var peer = Net.Endpoint(s.Remote, s.RemotePort);
            proc.Checked.Add($"descriptor {fd.Fd}: UDP socket connected to {peer}");
            bool local = Net.IsLocal(proc, s.Remote);
            bool bound = local && Net.Sockets(proc, "udp", "udp6").Any(x => x.LocalPort == s.RemotePort && Net.Covers(x.Local, s.Remote));
            yield return local && !bound
                ? new Explanation(Id, $"descriptor {fd.Fd} is a UDP socket connected to {peer}, and nothing on this machine is bound to UDP port {s.RemotePort}; an earlier datagram was answered with ICMP \"port unreachable\"", "start the service on that port, or fix the port number")
                : new Explanation(Id, $"descriptor {fd.Fd} is a UDP socket connected to {peer}; an earlier datagram was answered with ICMP \"port unreachable\", so probably nothing was bound to that port there", null, false);
        }
    }

    internal static ulong? SocketInode(string target) =>
        target.StartsWith("socket:[", StringComparison.Ordinal) && ulong.TryParse(target.AsSpan(8, target.Length - 9), out var v) ? v : null;

    private Explanation? Inet(ProcessView proc, SockAddr sa)
    {
        var dst = sa.Plain!;
        if (Net.IsWildcard(dst)) dst = dst.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? IPAddress.Loopback : IPAddress.IPv6Loopback;
        var ep = Net.Endpoint(sa.Plain!, sa.Port);
        // Its namespace's addresses and listeners, or nothing: another namespace's would be a wrong answer. What is known
        // is said, not certain: the refusal came from a namespace of its own, where a loopback address is that
        // namespace's loopback (a container's, `unshare -n`'s), not this machine's.
        if (proc.NetDir is null)
        {
            proc.Checked.Add($"TCP listeners on port {sa.Port} (not read: {proc.NetUnreadable})");
            return new Explanation(Id,
                $"pid {proc.Pid} was in a network namespace of its own (not whyfail's), and nothing there accepted {ep}; " +
                "what listened in it could not be read, as no process is left in that namespace" +
                (IPAddress.IsLoopback(dst) ? $"; {sa.Plain} there is that namespace's own loopback, not this machine's, so it does not reach a server listening on this machine's loopback (unless something forwards the port into the namespace)" : ""),
                IPAddress.IsLoopback(dst)
                    ? "run the server in the same network namespace (or share the host's network with the client), or connect to an address of the host that the namespace can reach"
                    : $"check that the service runs on {ep} and is reachable from that namespace", false);
        }
        bool local = Net.IsLocal(proc, dst);
        var ns = proc.NetNsName;
        proc.Checked.Add($"TCP listeners on port {sa.Port} in {ns}");
        if (!local)
            return new Explanation(Id,
                $"{ep} is not an address of this machine, so the refusal came from that host or a firewall on the way: it answered with a TCP reset, which means nothing was listening on port {sa.Port} there or a firewall rule rejected the connection",
                $"check that the service runs on {ep} (and that no firewall rejects it)", false);
        var listeners = Net.Sockets(proc, "tcp", "tcp6").Where(s => s.Listening && s.LocalPort == sa.Port).ToList();
        var covering = listeners.Where(s => Net.Covers(s.Local, dst)).ToList();
        var owners = Net.Owners(listeners.Select(s => s.Inode).ToHashSet());
        if (covering.Count > 0)
            return new Explanation(Id,
                $"something listens on {ep} now ({string.Join("; ", covering.Select(s => $"{s.LocalText} held by {Net.Holders(owners.GetValueOrDefault(s.Inode))}"))}); it was probably not listening yet at the time of the call (started since), or a firewall rule rejected the connection",
                null, false);
        if (listeners.Count > 0)
            return new Explanation(Id,
                $"nothing is listening on {ep}: port {sa.Port} is served only on {string.Join(", ", listeners.Select(s => $"{s.LocalText} ({Net.Holders(owners.GetValueOrDefault(s.Inode))})"))}",
                $"connect to {listeners[0].LocalText}, or make the server listen on {sa.Plain} (or on all addresses)");
        return new Explanation(Id,
            $"nothing is listening on {ep}: no TCP socket is in LISTEN state on port {sa.Port} in {ns}",
            $"start the server, or check the address and port (ss -ltnp shows what listens)");
    }

    private Explanation? Unix(SyscallEvent ev, ProcessView proc, SockAddr sa)
    {
        var name = sa.ToString();
        if (sa.Abstract)
        {
            if (proc.NetDir is null) { proc.Checked.Add($"listeners on the abstract Unix socket {Q(name)} (not read: {proc.NetUnreadable})"); return null; }
            proc.Checked.Add($"listeners on the abstract Unix socket {Q(name)}");
            var l = Net.UnixSockets(proc).Where(s => s.Path == name).ToList();
            if (l.Count == 0)
                return new Explanation(Id, $"no socket is bound to the abstract Unix address {Q(name)} in {proc.NetNsName}", "start the server that provides it");
            if (!l.Any(s => s.Listening))
                return new Explanation(Id, $"a socket is bound to the abstract Unix address {Q(name)} but it is not listening (listen() was not called yet, or it is a datagram socket)", null, false);
            return null;
        }
        var pa = SyscallArgs.Paths(ev).FirstOrDefault();
        if (pa is null) return null;
        var w = PathRules.Walk(ev, proc, pa);
        if (!w.Ok || w.Target is not { Exists: true } t) return null; // ENOENT/EACCES cases are other rules
        proc.Checked.Add($"the Unix socket file {Q(t.Path)} and the listening Unix sockets");
        if (t.Kind != FileKind.Socket)
            return new Explanation(Id, $"{Q(t.Path)} is {A(t.Kind)}, not a socket, so there is nothing to connect to", "use the path of the server's socket");
        // /proc/net/unix lists the sockets of one network namespace: the one the process was in, or none.
        if (proc.NetDir is null) return null;
        var listening = Net.UnixSockets(proc).Where(s => s.Listening && (s.Path == t.Path || s.Path == pa.Path)).ToList();
        if (listening.Count == 0)
            return new Explanation(Id,
                $"{Q(t.Path)} is a socket file, but no process is listening on it: it was probably left behind by a server that exited (a stale socket)",
                $"start the server (it should remove and recreate {Sh(t.Path)})");
        var owners = Net.Owners(listening.Select(s => s.Inode).ToHashSet());
        return new Explanation(Id,
            $"{Q(t.Path)} has a listener now ({Net.Holders(owners.Values.SelectMany(v => v).ToList())}); it was probably not listening yet at the time of the call",
            null, false);
    }
}
