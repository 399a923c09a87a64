using Whyfail.Capture;

namespace Whyfail.Analysis.Origin.Kernel;

/// <summary>
/// Callees that static analysis cannot see because they are reached through function pointers:
/// LSM hook implementations behind security_* (an hlist walk on 6.1; static calls on 6.9+), the
/// capability helpers every privileged path ends in, and the VFS permission checks of file syscalls.
/// They are added to the graph as if called directly (by the syscall entry, or by the security_* hook).
/// </summary>
public sealed class IndirectCallFamilies
{

    /// <summary>Checks that end in CAP_* decisions (EPERM).</summary>
    public static readonly IReadOnlyList<string> CapabilityHelpers =
        ["capable", "ns_capable", "ns_capable_noaudit", "capable_wrt_inode_uidgid", "security_capable", "cap_capable"];

    /// <summary>
    /// VFS permission checks (EACCES, EPERM, EROFS...) reached through inode operations (->permission)
    /// as well as directly. The static helpers of fs/namei.c (may_delete, may_create, may_linkat,
    /// may_lookup) are not listed: being static they are only ever called directly, so the graph finds
    /// them when they are not inlined, and when they are inlined a symbol of the same name belongs to
    /// another file (SELinux has its own may_create, may_link...).
    /// </summary>
    public static readonly IReadOnlyList<string> PermissionChecks =
        ["inode_permission", "generic_permission", "security_inode_permission"];

    /// <summary>Changes whenever these tables change, so that cached call graphs are recomputed.</summary>
    public const int Revision = 2;

    /// <summary>
    /// The protocol implementations behind struct proto_ops of the common families (inet, inet6, unix), per
    /// socket syscall: reached through sock->ops, so the static graph stops at __sys_connect_file and the
    /// like. Names a kernel lacks are dropped with the untraceable ones (6.1 has inet_bind, 6.12 also
    /// inet_bind_sk).
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string[]> SocketOps = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        ["connect"] = ["inet_stream_connect", "__inet_stream_connect", "inet_dgram_connect", "unix_stream_connect", "unix_dgram_connect"],
        ["bind"] = ["inet_bind", "inet_bind_sk", "__inet_bind", "inet6_bind", "__inet6_bind", "unix_bind"],
        ["listen"] = ["inet_listen", "__inet_listen_sk", "unix_listen"],
        ["accept"] = ["inet_accept", "unix_accept"],
        ["accept4"] = ["inet_accept", "unix_accept"],
        ["socket"] = ["inet_create", "inet6_create", "unix_create"],
        ["sendto"] = ["inet_sendmsg", "inet6_sendmsg", "tcp_sendmsg", "udp_sendmsg", "unix_stream_sendmsg", "unix_dgram_sendmsg"],
        ["sendmsg"] = ["inet_sendmsg", "inet6_sendmsg", "tcp_sendmsg", "udp_sendmsg", "unix_stream_sendmsg", "unix_dgram_sendmsg"],
    };

    /// <summary>Checks of the open path (may_open is static but kept: its name is unique).</summary>
    public static readonly IReadOnlyList<string> OpenChecks = ["may_open", "security_file_open"];

    /// <summary>Syscalls that take a path name (and so walk it, checking permissions on the way).</summary>
    public static readonly IReadOnlySet<string> PathSyscalls = new HashSet<string>(StringComparer.Ordinal)
    {
        "open", "openat", "openat2", "creat", "open_by_handle_at", "name_to_handle_at", "truncate", "stat", "lstat",
        "newstat", "newlstat", "newfstatat", "fstatat", "statx", "statfs", "access", "faccessat", "faccessat2",
        "mkdir", "mkdirat", "rmdir", "unlink", "unlinkat", "rename", "renameat", "renameat2", "link", "linkat",
        "symlink", "symlinkat", "readlink", "readlinkat", "chmod", "fchmodat", "fchmodat2", "chown", "lchown",
        "fchownat", "utime", "utimes", "futimesat", "utimensat", "mknod", "mknodat", "chdir", "chroot", "execve",
        "execveat", "setxattr", "lsetxattr", "setxattrat", "getxattr", "lgetxattr", "getxattrat", "listxattr",
        "llistxattr", "listxattrat", "removexattr", "lremovexattr", "removexattrat", "mount", "umount", "umount2",
        "pivot_root", "swapon", "swapoff", "acct", "quotactl", "inotify_add_watch", "fanotify_mark", "uselib",
        "open_tree", "move_mount", "fspick", "mount_setattr", "file_getattr", "file_setattr",
    };

    private static readonly HashSet<string> OpenSyscalls = new(StringComparer.Ordinal)
        { "open", "openat", "openat2", "creat", "open_by_handle_at", "execve", "execveat", "uselib", "swapon", "acct" };

    /// <summary>Function-name prefix of each LSM's hook implementations (prefix + hook name; landlock says "hook_").</summary>
    public static readonly IReadOnlyDictionary<string, string> LsmPrefixes = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["capability"] = "cap_", ["apparmor"] = "apparmor_", ["selinux"] = "selinux_", ["smack"] = "smack_",
        ["tomoyo"] = "tomoyo_", ["yama"] = "yama_", ["landlock"] = "hook_", ["bpf"] = "bpf_lsm_",
        ["safesetid"] = "safesetid_", ["loadpin"] = "loadpin_", ["ipe"] = "ipe_", ["lockdown"] = "lockdown_",
    };

    private readonly string[] _prefixes;

    /// <param name="activeLsms">The active LSMs in order (e.g. from /sys/kernel/security/lsm); unknown names are ignored.</param>
    public IndirectCallFamilies(IEnumerable<string> activeLsms)
    {
        ActiveLsms = activeLsms.ToArray();
        _prefixes = ActiveLsms.Where(LsmPrefixes.ContainsKey).Select(l => LsmPrefixes[l]).ToArray();
    }

    public IReadOnlyList<string> ActiveLsms { get; }

    /// <summary>The active LSMs from /sys/kernel/security/lsm, or every LSM that has a known prefix when unreadable.</summary>
    public static IndirectCallFamilies ForRunningKernel() => new(SecurityFs.ActiveLsms() ?? LsmPrefixes.Keys.ToArray());

    /// <summary>True for syscalls that take a path name.</summary>
    public static bool IsFileSyscall(string syscall) => PathSyscalls.Contains(syscall);

    /// <summary>The callees added under the syscall's entry.</summary>
    public IEnumerable<string> ForEntry(string syscall)
    {
        foreach (var f in CapabilityHelpers) yield return f;
        if (IsFileSyscall(syscall))
            foreach (var f in PermissionChecks) yield return f;
        if (OpenSyscalls.Contains(syscall))
            foreach (var f in OpenChecks) yield return f;
        if (SocketOps.TryGetValue(syscall, out var ops))
            foreach (var f in ops) yield return f;
    }

    /// <summary>The callees added under <paramref name="function"/>: LSM implementations of a security_* hook.</summary>
    public IEnumerable<string> ForFunction(string function)
    {
        if (!function.StartsWith("security_", StringComparison.Ordinal)) yield break;
        string hook = function["security_".Length..];
        int dot = hook.IndexOf('.');
        if (dot > 0) hook = hook[..dot];
        foreach (var p in _prefixes)
        {
            if (p == "lockdown_")
            {
                if (hook == "locked_down") yield return "lockdown_is_locked_down";
                continue;
            }
            yield return p + hook;
        }
    }
}
