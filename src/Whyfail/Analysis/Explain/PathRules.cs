using Whyfail.Events;

namespace Whyfail.Analysis.Explain;

/// <summary>Helpers shared by the path rules.</summary>
internal static class PathRules
{
    /// <summary>The credentials the kernel checks this path argument with (access(2) uses the real ids).</summary>
    public static Credentials CredsFor(SyscallEvent ev, ProcessView proc, PathArg pa)
    {
        if (pa.Op != PathOp.Access) return proc.Creds;
        if (ev.Syscall == "faccessat2" && (SyscallArgs.Int(ev, 3) & SyscallArgs.AT_EACCESS) != 0) return proc.Creds;
        return proc.Creds.ForAccessCheck();
    }

    public static PathWalkResult Walk(SyscallEvent ev, ProcessView proc, PathArg pa, bool? follow = null) =>
        proc.PathWalk(pa.Path, pa.Dirfd, follow ?? pa.FollowFinal, CredsFor(ev, proc, pa));

    /// <summary>Notes a walk that could not be done in a way that is worth telling (gone, bad dirfd, …).</summary>
    public static bool NoteUnwalkable(ProcessView proc, PathWalkResult w)
    {
        if (w.Outcome is WalkOutcome.Unresolvable or WalkOutcome.BadDirfd or WalkOutcome.Error)
        {
            proc.Checked.Add(w.Detail ?? $"could not walk {Words.Q(w.Input)}");
            return true;
        }
        return false;
    }

    /// <summary>"/a/b (a directory, mode 0755, owner root (uid 0), group root (gid 0))".</summary>
    public static string Describe(ProcessView proc, PathComponent c) =>
        $"{Words.Q(c.Path)} ({Words.A(c.Kind)}, {Words.Owner(proc, c)}{(c.HasAcl ? ", with an ACL" : "")})";

    /// <summary>", reached through the symbolic link "/x"" when the component came from a link target.</summary>
    public static string Via(PathComponent c) => c.FromLink is { } l ? $" (reached through the symbolic link {Words.Q(l)})" : "";

    /// <summary>The creating calls: the final name is expected not to exist.</summary>
    public static bool Creates(SyscallEvent ev, PathArg pa) => pa.Op switch
    {
        PathOp.Create or PathOp.RenameTo => true,
        PathOp.Open => ((SyscallArgs.OpenFlags(ev) ?? 0) & SyscallArgs.O_CREAT) != 0,
        _ => false,
    };

    /// <summary>What the call needs on the final file itself, or None.</summary>
    public static Access NeedsOnTarget(SyscallEvent ev, PathArg pa, PathComponent target)
    {
        switch (pa.Op)
        {
            case PathOp.Open:
            {
                int flags = SyscallArgs.OpenFlags(ev) ?? 0;
                return SyscallArgs.OpenAccess(flags);
            }
            case PathOp.Exec: return Access.Exec;
            case PathOp.Chdir: return Access.Exec;
            case PathOp.Write: return Access.Write;
            case PathOp.Read: return Access.Read;
            case PathOp.Access:
            {
                int mode = SyscallArgs.Int(ev, ev.Syscall == "access" ? 1 : 2);
                return (Access)(mode & 7);
            }
            default: return Access.None;
        }
    }

    /// <summary>What the call needs on the directory the final name is in (create/remove), or None.</summary>
    public static Access NeedsOnParent(SyscallEvent ev, PathArg pa, PathComponent? target)
    {
        switch (pa.Op)
        {
            case PathOp.Create: case PathOp.Remove: case PathOp.RenameTo: return Access.Write | Access.Exec;
            case PathOp.Open:
                return target is { Exists: false } && ((SyscallArgs.OpenFlags(ev) ?? 0) & SyscallArgs.O_CREAT) != 0
                    ? Access.Write | Access.Exec : Access.None;
            default: return Access.None;
        }
    }

    public static string OpenFlagWords(int flags)
    {
        var parts = new List<string> { (flags & 3) switch { 0 => "O_RDONLY", 1 => "O_WRONLY", 2 => "O_RDWR", _ => "O_ACCMODE" } };
        if ((flags & SyscallArgs.O_CREAT) != 0) parts.Add("O_CREAT");
        if ((flags & SyscallArgs.O_EXCL) != 0) parts.Add("O_EXCL");
        if ((flags & SyscallArgs.O_TRUNC) != 0) parts.Add("O_TRUNC");
        if ((flags & SyscallArgs.O_APPEND) != 0) parts.Add("O_APPEND");
        if ((flags & SyscallArgs.O_DIRECTORY) != 0) parts.Add("O_DIRECTORY");
        if ((flags & SyscallArgs.O_NOFOLLOW) != 0) parts.Add("O_NOFOLLOW");
        if ((flags & SyscallArgs.O_PATH) != 0) parts.Add("O_PATH");
        return string.Join('|', parts);
    }

    /// <summary>The directory's entries (names), at most <paramref name="max"/>, or null when it cannot be listed.</summary>
    public static List<string>? List(PathComponent dir, int max = 100_000)
    {
        try
        {
            var r = new List<string>();
            foreach (var e in Directory.EnumerateFileSystemEntries(dir.HostPath))
            {
                r.Add(Path.GetFileName(e));
                if (r.Count >= max) break;
            }
            return r;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }
}

internal static class PathRulesWrite
{
    /// <summary>
    /// For a call that modifies the file system through this path argument: the component whose file system is
    /// written (the file itself, or the directory a name is created in/removed from), else null.
    /// </summary>
    public static PathComponent? WrittenComponent(SyscallEvent ev, PathArg pa, PathWalkResult w)
    {
        var t = w.Target;
        switch (pa.Op)
        {
            case PathOp.Open:
            {
                int flags = SyscallArgs.OpenFlags(ev) ?? 0;
                bool writes = (SyscallArgs.OpenAccess(flags) & Access.Write) != 0;
                bool creates = (flags & SyscallArgs.O_CREAT) != 0;
                if (t is { Exists: true } && writes) return t;
                if (t is { Exists: false } && creates) return w.TargetDir;
                return null;
            }
            case PathOp.Create: case PathOp.Remove: case PathOp.RenameTo: return w.TargetDir;
            case PathOp.Write: case PathOp.Attr: return t is { Exists: true } ? t : null;
            case PathOp.Access:
                return (SyscallArgs.Int(ev, ev.Syscall == "access" ? 1 : 2) & 2) != 0 && t is { Exists: true } ? t : null;
            default: return null;
        }
    }

    /// <summary>fd-based calls that modify the file behind arg 0.</summary>
    public static bool ModifiesFd(string sc) => SyscallArgs.WritesFd(sc) || sc is "fchmod" or "fchown" or "fsetxattr" or "fremovexattr" or "futimesat";
}
