using Whyfail.Events;
using static Whyfail.Analysis.Explain.Words;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>EROFS: the mount (or its file system) that is read-only, with its mount point, type and source.</summary>
public sealed class ReadOnlyMount : IExplainRule
{
    public string Id => "mount.read_only";

    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.EROFS;

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        foreach (var pa in SyscallArgs.Paths(ev))
        {
            var w = PathRules.Walk(ev, proc, pa);
            if (PathRules.NoteUnwalkable(proc, w)) continue;
            var c = PathRulesWrite.WrittenComponent(ev, pa, w);
            if (c?.Mount is not { } m) continue;
            proc.Checked.Add($"the mount of {Q(c.Path)} ({Q(m.MountPoint)}, {string.Join(',', m.Options)})");
            var e = Describe(Q(pa.Path), m);
            if (e != null) yield return e;
        }
        if (SyscallArgs.FdArgs(ev) is [var i, ..] && PathRulesWrite.ModifiesFd(ev.Syscall) && proc.Fd(SyscallArgs.Int(ev, i)) is { } fd
            && proc.MountOf(fd) is { } fm)
        {
            proc.Checked.Add($"the mount of descriptor {fd.Fd} ({Q(fm.MountPoint)})");
            var e = Describe($"descriptor {fd.Fd} ({Q(proc.FdTarget(fd))})", fm);
            if (e != null) yield return e;
        }
    }

    private Explanation? Describe(string what, MountEntry m)
    {
        bool inherentlyRo = m.FsType is "squashfs" or "iso9660" or "erofs" or "cramfs" or "udf" && m.SuperReadOnly;
        if (m.MountReadOnly)
            return new Explanation(Id,
                $"{what} is on the mount {Q(m.MountPoint)} ({m.FsType} from {m.Source}), which is mounted read-only (options {string.Join(',', m.Options)})",
                inherentlyRo ? $"{m.FsType} is read-only by nature: write somewhere else (or use an overlay)" : $"mount -o remount,rw {Sh(m.MountPoint)}, or write somewhere else");
        if (m.SuperReadOnly)
        {
            var errors = m.SuperOptions.FirstOrDefault(o => o.StartsWith("errors=", StringComparison.Ordinal));
            var why = errors == "errors=remount-ro" ? "; its super block has errors=remount-ro, so it was probably switched to read-only after an I/O or consistency error (see dmesg)" : "";
            return new Explanation(Id,
                $"{what} is on {Q(m.MountPoint)} ({m.FsType} from {m.Source}): the mount is rw but the file system itself is read-only (super block options {string.Join(',', m.SuperOptions)}){why}",
                inherentlyRo ? $"{m.FsType} is read-only by nature: write somewhere else" : $"check dmesg, then mount -o remount,rw {Sh(m.MountPoint)}");
        }
        return new Explanation(Id,
            $"{what} is on {Q(m.MountPoint)} ({m.FsType} from {m.Source}), which is read-write now; it was probably read-only at the time of the call (remounted since)",
            null, false);
    }
}
