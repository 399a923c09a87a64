using Whyfail.Capture.Deny.Bpf;

namespace Whyfail.Capture.Deny;

/// <summary>What a deny rule refuses (WFD_WHAT_* of bpf/deny.h).</summary>
public enum DenyWhat
{
    /// <summary>Creating a name (file, directory, node, symlink, hard link, rename target) whose last component matches.</summary>
    Create = WfdConst.WhatCreate,
    /// <summary>Opening a file whose absolute path matches.</summary>
    Open = WfdConst.WhatOpen,
    /// <summary>Executing a file whose absolute path matches.</summary>
    Exec = WfdConst.WhatExec,
    /// <summary>Binding an IPv4 or IPv6 socket to a port.</summary>
    Bind = WfdConst.WhatBind,
}

/// <summary>Which users a rule applies to (WFD_USERS_*), by effective uid.</summary>
public enum DenyUsers
{
    Any = WfdConst.UsersAny,
    Only = WfdConst.UsersOnly,
    Except = WfdConst.UsersExcept,
}

/// <summary>
/// One rule of `whyfail deny`, as the kernel side enforces it: the first rule of a kind that applies to the
/// calling task and matches refuses the operation with <see cref="Errno"/>.
/// </summary>
/// <param name="Number">1-based, in command-line order.</param>
/// <param name="Text">The rule as the user wrote it.</param>
/// <param name="Pattern">The glob (create=, open=, exec=); null for bind=.</param>
/// <param name="Port">The port (bind=).</param>
/// <param name="Uids">Effective uids for <see cref="DenyUsers.Only"/> and <see cref="DenyUsers.Except"/>.</param>
/// <param name="Comm">Only processes of this name (as in /proc/PID/comm), or null.</param>
public sealed record DenyRule(int Number, string Text, DenyWhat What, string? Pattern, int Port, int Errno,
    DenyUsers Users, IReadOnlyList<uint> Uids, string? Comm)
{
    /// <summary>Rules per `whyfail deny`, and uids per rule's user= (the kernel side's arrays).</summary>
    public const int MaxRules = WfdConst.MaxRules, MaxUsers = WfdConst.MaxUsers;

    /// <summary>The word of the syntax: create, open, exec, bind.</summary>
    public string Kind => What.ToString().ToLowerInvariant();

    /// <summary>What the rule matches, in words: "a new name matching *.tmp", "port 8080".</summary>
    public string Matches => What switch
    {
        DenyWhat.Create => $"a new name matching {Pattern}",
        DenyWhat.Open => $"opening a path matching {Pattern}",
        DenyWhat.Exec => $"executing a path matching {Pattern}",
        _ => $"binding port {Port}",
    };

    /// <summary>The LSM hooks that enforce a rule of this kind.</summary>
    public IReadOnlyList<DenyHook> Hooks => What switch
    {
        DenyWhat.Create => [DenyHook.InodeCreate, DenyHook.InodeMkdir, DenyHook.InodeMknod, DenyHook.InodeSymlink, DenyHook.InodeLink, DenyHook.InodeRename],
        DenyWhat.Open => [DenyHook.FileOpen],
        DenyWhat.Exec => [DenyHook.BprmCheck],
        _ => [DenyHook.SocketBind],
    };
}

/// <summary>The LSM hooks (WFD_HOOK_* of bpf/deny.h), each enforced by one BPF program.</summary>
public enum DenyHook
{
    InodeCreate = WfdConst.HookInodeCreate,
    InodeMkdir = WfdConst.HookInodeMkdir,
    InodeMknod = WfdConst.HookInodeMknod,
    InodeSymlink = WfdConst.HookInodeSymlink,
    InodeLink = WfdConst.HookInodeLink,
    InodeRename = WfdConst.HookInodeRename,
    FileOpen = WfdConst.HookFileOpen,
    BprmCheck = WfdConst.HookBprmCheck,
    SocketBind = WfdConst.HookSocketBind,
}

public static class DenyHooks
{
    /// <summary>The kernel's name of the hook (security_NAME, lsm/NAME).</summary>
    public static string Name(DenyHook h) => h switch
    {
        DenyHook.InodeCreate => "inode_create",
        DenyHook.InodeMkdir => "inode_mkdir",
        DenyHook.InodeMknod => "inode_mknod",
        DenyHook.InodeSymlink => "inode_symlink",
        DenyHook.InodeLink => "inode_link",
        DenyHook.InodeRename => "inode_rename",
        DenyHook.FileOpen => "file_open",
        DenyHook.BprmCheck => "bprm_check_security",
        DenyHook.SocketBind => "socket_bind",
        _ => $"hook {(int)h}",
    };

    /// <summary>The BPF program of deny.bpf.o that enforces the hook.</summary>
    internal static string Program(DenyHook h) => h switch
    {
        DenyHook.InodeCreate => BpfPrograms.DenyInodeCreate,
        DenyHook.InodeMkdir => BpfPrograms.DenyInodeMkdir,
        DenyHook.InodeMknod => BpfPrograms.DenyInodeMknod,
        DenyHook.InodeSymlink => BpfPrograms.DenyInodeSymlink,
        DenyHook.InodeLink => BpfPrograms.DenyInodeLink,
        DenyHook.InodeRename => BpfPrograms.DenyInodeRename,
        DenyHook.FileOpen => BpfPrograms.DenyFileOpen,
        DenyHook.BprmCheck => BpfPrograms.DenyBprmCheck,
        _ => BpfPrograms.DenySocketBind,
    };

    public static readonly DenyHook[] All = Enum.GetValues<DenyHook>();
}
