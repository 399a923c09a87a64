using Whyfail.Events;
using static Whyfail.Analysis.Explain.Words;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>EADDRINUSE from bind/listen: which socket holds the port (protocol, address, state) and which process.</summary>
public sealed class AddressInUse : IExplainRule
{
    public string Id => "net.address_in_use";

    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.EADDRINUSE && ev.Syscall == "bind";

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        var sa = SockAddr.Decode(ev.Capture(1)?.Data);
        if (sa is null) { proc.Checked.Add("the address (not captured)"); yield break; }
        if (sa.IsUnix)
        {
            var e = Unix(ev, proc, sa);
            if (e != null) yield return e;
            yield break;
        }
        if (!sa.IsInet) yield break;
        if (sa.Port == 0)
        {
            var range = ProcFs.Read("/proc/sys/net/ipv4/ip_local_port_range")?.Trim().Replace('\t', '-');
            yield return new Explanation(Id, $"bind asked for any free port (port 0) on {sa.Plain} and none was free in net.ipv4.ip_local_port_range ({range})", "widen net.ipv4.ip_local_port_range or close sockets", false);
            yield break;
        }
        if (proc.NetDir is null) { proc.Checked.Add($"TCP and UDP sockets on port {sa.Port} (not read: {proc.NetUnreadable})"); yield break; }
        var ns = proc.NetNsName;
        proc.Checked.Add($"TCP and UDP sockets on port {sa.Port} in {ns}");
        var dst = sa.Plain!;
        var socks = Net.Sockets(proc, "tcp", "tcp6", "udp", "udp6")
            .Where(s => s.LocalPort == sa.Port && Overlaps(s.Local, dst)).ToList();
        if (socks.Count == 0)
        {
            yield return new Explanation(Id, $"no socket uses port {sa.Port} for {sa.Plain} now in {ns}; it was probably released since the call", null, false);
            yield break;
        }
        var owners = Net.Owners(socks.Where(s => s.Inode != 0).Select(s => s.Inode).ToHashSet());
        var live = socks.Where(s => s.Inode != 0).OrderBy(s => s.Listening ? 0 : 1).ToList();
        var timeWait = socks.Count(s => s.Inode == 0 && s.IsTcp && s.State == 6);
        if (live.Count == 0 && timeWait > 0)
        {
            yield return new Explanation(Id,
                $"port {sa.Port} is held only by {Plural(timeWait, "TCP connection", "TCP connections")} in TIME_WAIT (a recently closed connection on {Net.Endpoint(socks[0].Local, sa.Port)}); bind refuses it without SO_REUSEADDR",
                "set SO_REUSEADDR on the socket before bind (servers normally do), or wait about a minute");
            yield break;
        }
        var parts = live.Take(4).Select(s => $"{s.ProtoName} {s.LocalText} ({s.StateName}) held by {Net.Holders(owners.GetValueOrDefault(s.Inode))}");
        var firstPid = live.Select(s => owners.GetValueOrDefault(s.Inode)).FirstOrDefault(o => o is { Count: > 0 })?[0].Pid;
        yield return new Explanation(Id,
            $"port {sa.Port} is already in use for {sa.Plain}: {string.Join("; ", parts)}",
            firstPid is { } fp ? $"stop pid {fp} or use another port (ss -ltnup 'sport = :{sa.Port}' shows the holders)" : "use another port");
    }

    // Two bindings of one port collide when the addresses are equal or either one is a wildcard of that family.
    private static bool Overlaps(System.Net.IPAddress bound, System.Net.IPAddress want) =>
        Net.Covers(bound, want) || Net.Covers(want, bound) || bound.Equals(want);

    private Explanation? Unix(SyscallEvent ev, ProcessView proc, SockAddr sa)
    {
        if (sa.Abstract)
        {
            var name = sa.ToString();
            if (proc.NetDir is null) { proc.Checked.Add($"the abstract Unix address {Q(name)} (not read: {proc.NetUnreadable})"); return null; }
            proc.Checked.Add($"the abstract Unix address {Q(name)}");
            var held = Net.UnixSockets(proc).Where(s => s.Path == name).ToList();
            if (held.Count == 0) return null;
            var owners = Net.Owners(held.Select(s => s.Inode).ToHashSet());
            return new Explanation(Id, $"the abstract Unix address {Q(name)} is already bound, by {Net.Holders(owners.Values.SelectMany(v => v).ToList())}", "stop that process or use another name");
        }
        var pa = SyscallArgs.Paths(ev).FirstOrDefault();
        if (pa is null) return null;
        var w = PathRules.Walk(ev, proc, pa, follow: false);
        if (w.Target is not { Exists: true } t) return null;
        proc.Checked.Add($"the Unix socket path {Q(t.Path)}");
        if (t.Kind != FileKind.Socket)
            return new Explanation(Id, $"{Q(t.Path)} already exists and is {A(t.Kind)}; bind creates the socket file, so the name must be free", $"remove {Sh(t.Path)} or use another path");
        if (proc.NetDir is null) return null;  // the listeners are in /proc/net/unix of the process's namespace
        var listening = Net.UnixSockets(proc).Where(s => s.Listening && (s.Path == t.Path || s.Path == pa.Path)).ToList();
        if (listening.Count == 0)
            return new Explanation(Id,
                $"the socket file {Q(t.Path)} already exists and nothing listens on it: it was left behind by a server that exited (bind never reuses an existing file)",
                $"remove it before bind (unlink {Sh(t.Path)})");
        var o = Net.Owners(listening.Select(s => s.Inode).ToHashSet());
        return new Explanation(Id, $"the socket {Q(t.Path)} is in use: {Net.Holders(o.Values.SelectMany(v => v).ToList())} listens on it", "stop that server or use another path");
    }
}
