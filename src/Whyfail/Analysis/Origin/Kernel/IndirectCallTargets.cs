using Whyfail.Capture;
using Whyfail.Capture.Native;
using static Whyfail.Capture.Native.Libc;

namespace Whyfail.Analysis.Origin.Kernel;

/// <summary>
/// The functions an indirect call can reach, from BTF: a call through <c>f_op-&gt;write_iter</c>, <c>a_ops-&gt;write_begin</c>,
/// <c>sock-&gt;ops-&gt;listen</c> or <c>ns-&gt;ops-&gt;install</c> reaches a function whose prototype is the one of that
/// function-pointer member of its operations table. Every function-pointer member of every struct in the kernel's BTF
/// gives a prototype (return and parameter types, typedefs resolved); the targets are the functions with such a
/// prototype. Which of them ran is narrowed by the failure's context: the file system of a descriptor argument
/// (tmpfs: <c>shmem_</c>…, an eventfd: <c>eventfd_</c>…) or the socket's protocol family.
/// </summary>
public sealed class IndirectCallTargets
{
    private readonly HashSet<string> _targets = new(StringComparer.Ordinal);

    public IndirectCallTargets(BtfTypeTable types)
    {
        var memberPrototypes = new HashSet<string>(StringComparer.Ordinal);
        var functions = new List<(string Name, int Proto)>();
        for (int id = 1; id <= types.TypeCount; id++)
        {
            switch (types.KindOf(id))
            {
                case BtfKind.Struct:
                    foreach (var m in types.MembersOf(id))
                    {
                        int t = types.Resolve(m.Type);
                        if (types.KindOf(t) != BtfKind.Ptr) continue;
                        int proto = types.Resolve((int)types.SizeOrTypeOf(t));
                        if (types.KindOf(proto) == BtfKind.FuncProto) memberPrototypes.Add(Prototype(types, proto));
                    }
                    break;
                case BtfKind.Func:
                    functions.Add((types.NameOf(id), (int)types.SizeOrTypeOf(id)));
                    break;
            }
        }
        foreach (var (name, proto) in functions)
            if (types.KindOf(proto) == BtfKind.FuncProto && memberPrototypes.Contains(Prototype(types, proto)))
                _targets.Add(name);
    }

    /// <summary>How many functions some function pointer's prototype matches.</summary>
    public int Count => _targets.Count;

    /// <summary>Whether <paramref name="function"/> has the prototype of some operations table's function pointer.</summary>
    public bool IsTarget(string function) => _targets.Contains(function);

    /// <summary>The targets whose name starts with one of <paramref name="prefixes"/>, sorted.</summary>
    public IReadOnlyList<string> Named(IEnumerable<string> prefixes)
    {
        var p = prefixes.Where(x => x.Length > 1).Distinct(StringComparer.Ordinal).ToArray();
        return _targets.Where(t => p.Any(x => t.StartsWith(x, StringComparison.Ordinal))).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// The name prefixes of the functions a file system implements its operations with: its type name (ext4_, xfs_,
    /// btrfs_, fuse_…) and, where the kernel's source names them otherwise, that prefix (tmpfs: shmem_, overlay: ovl_,
    /// pipefs: pipe_; an anonymous inode, by its name: [eventfd] eventfd_, [io_uring] io_).
    /// </summary>
    public static IEnumerable<string> FsPrefixes(string fsType, string? anonName)
    {
        switch (fsType)
        {
            case "tmpfs" or "devtmpfs": yield return "shmem_"; break;
            case "overlay": yield return "ovl_"; break;
            case "pipefs": yield return "pipe_"; yield return "anon_pipe_"; break; // anon_pipe_write since 6.16
            case "sockfs": yield return "sock_"; yield break; // the generic socket operations (sock_no_listen…); the family says more (SocketPrefixes)
            case "anon_inodefs":
                if (anonName is { Length: > 2 } n && n[0] == '[' && n[^1] == ']')
                    yield return n[1..^1].Replace("-", "_", StringComparison.Ordinal) + "_";
                yield break;
            case "proc": yield return "proc_"; break;
            case "sysfs": yield return "kernfs_"; yield return "sysfs_"; break;
        }
        if (fsType.Length > 0) yield return fsType + "_";
    }

    /// <summary>
    /// The names of the operations every file system gives a file of this type (<paramref name="mode"/>'s S_IFMT bits)
    /// from libfs, whatever its own prefix: a directory's <c>-&gt;read</c> is <c>generic_read_dir</c> (tmpfs, ext4, xfs…).
    /// </summary>
    public static IEnumerable<string> FileTypePrefixes(uint mode) =>
        (mode & Libc.S_IFMT) == Libc.S_IFDIR ? ["generic_read_dir"] : [];

    /// <summary>
    /// The prefixes of the code a setsockopt/getsockopt <paramref name="level"/> is handled by, when the socket's family
    /// is not known (the context has the descriptor, not the family): SOL_IP reaches ip_setsockopt → do_ip_setsockopt
    /// through <c>sk_prot-&gt;setsockopt</c> (tcp_/udp_/raw_setsockopt) and <c>icsk_af_ops-&gt;setsockopt</c>.
    /// </summary>
    public static IEnumerable<string> SocketLevelPrefixes(int level) => level switch
    {
        SOL_IP => ["ip_", "do_ip_", "tcp_setsockopt", "tcp_getsockopt", "udp_setsockopt", "udp_getsockopt", "raw_setsockopt", "raw_getsockopt"],
        SOL_TCP => ["tcp_", "do_tcp_"],
        SOL_UDP => ["udp_", "udpv6_"],
        SOL_IPV6 => ["ipv6_", "do_ipv6_", "tcp_setsockopt", "tcp_getsockopt", "udpv6_setsockopt", "udpv6_getsockopt", "rawv6_"],
        _ => [],
    };

    /// <summary>The prefixes of a socket family's operations (AF_UNIX: unix_; AF_INET: inet_, tcp_, udp_, ip_; AF_NETLINK: netlink_).</summary>
    public static IEnumerable<string> SocketPrefixes(int family) => family switch
    {
        1 => ["unix_"],
        2 => ["inet_", "tcp_", "udp_", "ip_", "raw_", "ping_"],
        10 => ["inet6_", "tcp_", "udp_", "ipv6_", "ip6_", "rawv6_", "ping_"],
        16 => ["netlink_"],
        17 => ["packet_"],
        _ => [],
    };

    /// <summary>
    /// A prototype as one string: the return and parameter types as type ids, typedefs and qualifiers resolved, pointers
    /// followed to what they point to (the kernel's BTF is deduplicated: one type, one id; parameter names, which FUNC
    /// prototypes have and member ones lack, are left out).
    /// </summary>
    private static string Prototype(BtfTypeTable t, int proto)
    {
        int n = t.VlenOf(proto);
        var sb = new System.Text.StringBuilder(8 * (n + 1));
        Key(t, (int)t.SizeOrTypeOf(proto), sb);
        for (int i = 0; i < n; i++) Key(t, t.ParameterTypeOf(proto, i), sb.Append(','));
        return sb.ToString();
    }

    private static void Key(BtfTypeTable t, int id, System.Text.StringBuilder sb)
    {
        id = t.Resolve(id);
        for (int depth = 0; depth < 4 && t.KindOf(id) == BtfKind.Ptr; depth++)
        {
            sb.Append('*');
            id = t.Resolve((int)t.SizeOrTypeOf(id));
        }
        sb.Append(id);
    }
}
