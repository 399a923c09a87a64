using Whyfail.Events;
using static Whyfail.Analysis.Explain.Words;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// EACCES from the sticky-directory protections (fs.protected_symlinks, fs.protected_regular, fs.protected_fifos):
/// following someone else's symlink in a world-writable sticky directory such as /tmp, or opening someone else's
/// existing file there with O_CREAT.
/// </summary>
public sealed class PathProtectedInSticky : IExplainRule
{
    public string Id => "path.protected_sticky";

    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.EACCES && SyscallArgs.Paths(ev).Count > 0;

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        long protSymlinks = ProcFs.ReadLong("/proc/sys/fs/protected_symlinks") ?? 0;
        long protRegular = ProcFs.ReadLong("/proc/sys/fs/protected_regular") ?? 0;
        long protFifos = ProcFs.ReadLong("/proc/sys/fs/protected_fifos") ?? 0;
        foreach (var pa in SyscallArgs.Paths(ev))
        {
            var creds = PathRules.CredsFor(ev, proc, pa);
            var w = PathRules.Walk(ev, proc, pa);
            if (w.Outcome is WalkOutcome.Unresolvable or WalkOutcome.BadDirfd) continue;
            proc.Checked.Add("fs.protected_symlinks/protected_regular/protected_fifos for sticky directories");

            // may_follow_link(): a link in a sticky world-writable directory is followed only by its owner, or
            // when the directory's owner owns the link.
            if (protSymlinks != 0)
                foreach (var c in w.Components)
                {
                    if (c.Kind != FileKind.Symlink || c.Dir is not { } d || !w.Links.Any(l => l.Link == c.Path)) continue;
                    if ((d.Mode & 0x202) != 0x202) continue; // sticky + other-writable
                    if (creds.Fsuid == c.Uid || d.Uid == c.Uid) continue;
                    yield return new Explanation(Id,
                        $"{Q(c.Path)} is a symbolic link owned by {proc.DescribeUser(c.Uid)} in the sticky world-writable directory {Q(d.Path)} (owner {proc.DescribeUser(d.Uid)}); with fs.protected_symlinks = {protSymlinks} the kernel refuses to follow it for {proc.DescribeUser(creds.Fsuid)}",
                        $"use the link's target directly, or have its owner create it elsewhere");
                    goto next;
                }

            // may_create_in_sticky(): O_CREAT on an existing file someone else owns in a sticky directory.
            if (pa.Op == PathOp.Open && ((SyscallArgs.OpenFlags(ev) ?? 0) & SyscallArgs.O_CREAT) != 0
                && w.Ok && w.Target is { Exists: true } t && w.TargetDir is { } dir && (dir.Mode & 0x200) != 0)
            {
                long level = t.Kind == FileKind.Regular ? protRegular : t.Kind == FileKind.Fifo ? protFifos : 0;
                string sysctl = t.Kind == FileKind.Fifo ? "fs.protected_fifos" : "fs.protected_regular";
                bool applies = level != 0 && ((dir.Mode & 0x2) != 0 || (level >= 2 && (dir.Mode & 0x10) != 0));
                if (applies && t.Uid != dir.Uid && t.Uid != creds.Fsuid)
                    yield return new Explanation(Id,
                        $"{Q(t.Path)} already exists, owned by {proc.DescribeUser(t.Uid)}, in the sticky directory {Q(dir.Path)} (mode {Mode(dir.Mode)}, owner {proc.DescribeUser(dir.Uid)}); with {sysctl} = {level} an O_CREAT open of someone else's {Kind(t.Kind)} there is refused",
                        "open it without O_CREAT, or use a private name (mkstemp) instead of a fixed one in a shared directory");
            }
        next:;
        }
    }
}
