using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Whyfail.Analysis.Explain;

/// <summary>A decoded struct sockaddr (AF_INET, AF_INET6 or AF_UNIX), minimal.</summary>
public sealed record SockAddr(int Family, IPAddress? Address, int Port, string? UnixPath, bool Abstract)
{
    public const int AF_UNIX = Capture.Native.Libc.AF_UNIX, AF_INET = Capture.Native.Libc.AF_INET, AF_INET6 = Capture.Native.Libc.AF_INET6;

    public static SockAddr? Decode(byte[]? d)
    {
        if (d is null || d.Length < 2) return null;
        int family = BitConverter.ToUInt16(d, 0);
        switch (family)
        {
            case AF_INET when d.Length >= 8:
                return new SockAddr(family, new IPAddress(d.AsSpan(4, 4)), d[2] << 8 | d[3], null, false);
            case AF_INET6 when d.Length >= 24:
                return new SockAddr(family, new IPAddress(d.AsSpan(8, 16), d.Length >= 28 ? BitConverter.ToUInt32(d, 24) : 0), d[2] << 8 | d[3], null, false);
            case AF_UNIX:
            {
                if (d.Length <= 2) return new SockAddr(family, null, 0, "", false); // autobind
                if (d[2] == 0) return new SockAddr(family, null, 0, Encoding.UTF8.GetString(d, 3, d.Length - 3).TrimEnd('\0'), true);
                int end = Array.IndexOf(d, (byte)0, 2);
                return new SockAddr(family, null, 0, Encoding.UTF8.GetString(d, 2, (end < 0 ? d.Length : end) - 2), false);
            }
            default: return new SockAddr(family, null, 0, null, false);
        }
    }

    /// <summary>The address with IPv4-mapped IPv6 turned into IPv4.</summary>
    public IPAddress? Plain => Address is { IsIPv4MappedToIPv6: true } a ? a.MapToIPv4() : Address;

    public bool IsUnix => Family == AF_UNIX;
    public bool IsInet => Family is AF_INET or AF_INET6 && Address != null;

    public override string ToString() => Family switch
    {
        AF_UNIX => Abstract ? "@" + UnixPath : UnixPath ?? "",
        _ when Address is null => $"family {Family}",
        _ => Net.Endpoint(Address, Port),
    };
}

/// <summary>One line of /proc/net/tcp{,6} or udp{,6}.</summary>
public sealed record InetSocket(string Proto, IPAddress Local, int LocalPort, IPAddress Remote, int RemotePort, int State, ulong Inode, uint Uid)
{
    public bool IsTcp => Proto.StartsWith("tcp", StringComparison.Ordinal);
    public bool Listening => IsTcp && State == 0x0A;
    public string LocalText => Net.Endpoint(Local, LocalPort);

    public string StateName => !IsTcp ? (State == 1 ? "connected" : "bound") : State switch
    {
        1 => "ESTABLISHED", 2 => "SYN_SENT", 3 => "SYN_RECV", 4 => "FIN_WAIT1", 5 => "FIN_WAIT2", 6 => "TIME_WAIT",
        7 => "CLOSE", 8 => "CLOSE_WAIT", 9 => "LAST_ACK", 10 => "LISTEN", 11 => "CLOSING", _ => $"state {State}",
    };

    public string ProtoName => IsTcp ? "TCP" : "UDP";
}

/// <summary>One line of /proc/net/unix.</summary>
public sealed record UnixSocket(ulong Inode, bool Listening, int Type, string Path);

/// <summary>Reads the socket tables of the process's network namespace and maps socket inodes to processes.</summary>
public static class Net
{
    public static string Endpoint(IPAddress a, int port) =>
        a.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{a}]:{port}" : $"{a}:{port}";

    /// <summary>
    /// The sockets of <paramref name="protos"/> ("tcp", "tcp6", "udp", "udp6") in the process's namespace; none when it
    /// cannot be read (<see cref="ProcessView.NetDir"/> null: rules check that first, an empty list is not "nothing").
    /// </summary>
    public static List<InetSocket> Sockets(ProcessView proc, params string[] protos)
    {
        var r = new List<InetSocket>();
        if (proc.NetDir is null) return r;
        foreach (var proto in protos)
        {
            var text = ProcFs.Read($"{proc.NetDir}/{proto}");
            if (text is null) continue;
            foreach (var line in text.Split('\n').Skip(1))
            {
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (f.Length < 10) continue;
                if (!TryEndpoint(f[1], out var la, out var lp) || !TryEndpoint(f[2], out var ra, out var rp)) continue;
                r.Add(new InetSocket(proto, la, lp, ra, rp, int.Parse(f[3], NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                    ulong.Parse(f[9], CultureInfo.InvariantCulture), uint.Parse(f[7], CultureInfo.InvariantCulture)));
            }
        }
        return r;
    }

    // "0100007F:0050" (IPv4 as a host-order u32) or 32 hex digits (four host-order u32) for IPv6.
    private static bool TryEndpoint(string s, out IPAddress addr, out int port)
    {
        addr = IPAddress.None;
        port = 0;
        int c = s.IndexOf(':');
        if (c < 0) return false;
        var hex = s[..c];
        port = int.Parse(s[(c + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        var bytes = new byte[hex.Length / 2];
        for (int w = 0; w < hex.Length / 8; w++)
        {
            uint v = uint.Parse(hex.AsSpan(w * 8, 8), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            BitConverter.GetBytes(v).CopyTo(bytes, w * 4); // the kernel printed the u32 in host (little-endian) order
        }
        addr = new IPAddress(bytes);
        return true;
    }

    public static List<UnixSocket> UnixSockets(ProcessView proc)
    {
        var r = new List<UnixSocket>();
        if (proc.NetDir is null) return r;
        var text = ProcFs.Read($"{proc.NetDir}/unix");
        if (text is null) return r;
        foreach (var line in text.Split('\n').Skip(1))
        {
            var f = line.Split(' ', 8, StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 7) continue;
            uint flags = uint.Parse(f[3], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            r.Add(new UnixSocket(ulong.Parse(f[6], CultureInfo.InvariantCulture), (flags & 0x10000) != 0,
                int.Parse(f[4], NumberStyles.HexNumber, CultureInfo.InvariantCulture), f.Length > 7 ? f[7] : ""));
        }
        return r;
    }

    /// <summary>The addresses of this network namespace (local routes of fib_trie, if_inet6), plus loopback.</summary>
    public static HashSet<IPAddress> LocalAddresses(ProcessView proc)
    {
        var r = new HashSet<IPAddress> { IPAddress.Loopback, IPAddress.IPv6Loopback };
        if (proc.NetDir is null) return r;
        var trie = ProcFs.Read($"{proc.NetDir}/fib_trie");
        if (trie != null)
        {
            string? last = null;
            foreach (var raw in trie.Split('\n'))
            {
                var line = raw.Trim();
                if (line.StartsWith("|-- ", StringComparison.Ordinal)) last = line[4..];
                else if (line.Contains("/32 host LOCAL") && last != null && IPAddress.TryParse(last, out var a)) r.Add(a);
            }
        }
        var v6 = ProcFs.Read($"{proc.NetDir}/if_inet6");
        if (v6 != null)
            foreach (var line in v6.Split('\n'))
                if (line.Length >= 32 && Convert.FromHexString(line[..32]) is var b) r.Add(new IPAddress(b));
        return r;
    }

    public static bool IsLocal(ProcessView proc, IPAddress a)
    {
        if (a.IsIPv4MappedToIPv6) a = a.MapToIPv4();
        if (IPAddress.IsLoopback(a) || a.Equals(IPAddress.Any) || a.Equals(IPAddress.IPv6Any)) return true;
        return LocalAddresses(proc).Contains(a);
    }

    public static bool IsWildcard(IPAddress a) => a.Equals(IPAddress.Any) || a.Equals(IPAddress.IPv6Any);

    /// <summary>Whether a socket bound to <paramref name="local"/> receives connections/packets for <paramref name="dst"/>.</summary>
    public static bool Covers(IPAddress local, IPAddress dst)
    {
        if (dst.IsIPv4MappedToIPv6) dst = dst.MapToIPv4();
        var l = local.IsIPv4MappedToIPv6 ? local.MapToIPv4() : local;
        if (l.Equals(IPAddress.IPv6Any)) return true; // dual-stack unless IPV6_V6ONLY (not visible here)
        if (l.Equals(IPAddress.Any)) return dst.AddressFamily == AddressFamily.InterNetwork;
        if (dst.Equals(IPAddress.Any)) return IPAddress.IsLoopback(l);
        return l.Equals(dst);
    }

    /// <summary>Maps socket inodes to the (pid, fd) pairs holding them, by scanning /proc/*/fd.</summary>
    public static Dictionary<ulong, List<(int Pid, int Fd)>> Owners(IReadOnlySet<ulong> inodes)
    {
        var r = new Dictionary<ulong, List<(int, int)>>();
        if (inodes.Count == 0) return r;
        foreach (var pid in ProcFs.Pids())
            foreach (var (fd, target) in ProcFs.FdLinks(pid))
            {
                if (!target.StartsWith("socket:[", StringComparison.Ordinal)) continue;
                if (!ulong.TryParse(target.AsSpan(8, target.Length - 9), out var ino) || !inodes.Contains(ino)) continue;
                if (!r.TryGetValue(ino, out var l)) r[ino] = l = [];
                l.Add((pid, fd));
            }
        return r;
    }

    /// <summary>"pid 123 (nginx, fd 6), pid 124 (nginx, fd 6)".</summary>
    public static string Holders(List<(int Pid, int Fd)>? owners, int max = 3)
    {
        if (owners is null || owners.Count == 0) return "no process found holding it (a socket of another namespace, or closed since)";
        var parts = owners.GroupBy(o => o.Pid).Take(max).Select(g => $"pid {g.Key} ({ProcFs.Comm(g.Key) ?? "?"}, fd {string.Join(',', g.Select(x => x.Fd))})");
        var more = owners.Select(o => o.Pid).Distinct().Count() > max ? ", …" : "";
        return string.Join(", ", parts) + more;
    }
}
