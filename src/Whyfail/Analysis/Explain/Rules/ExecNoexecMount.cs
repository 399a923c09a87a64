using Whyfail.Events;
using static Whyfail.Analysis.Explain.Words;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>EACCES from execve of a program (or its "#!" interpreter) on a file system mounted noexec.</summary>
public sealed class ExecNoexecMount : IExplainRule
{
    public string Id => "exec.noexec_mount";

    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.EACCES && ev.Syscall is "execve" or "execveat";

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        foreach (var pa in SyscallArgs.Paths(ev))
        {
            var w = PathRules.Walk(ev, proc, pa);
            if (!w.Ok || w.Target is not { Kind: FileKind.Regular } t) continue;
            proc.Checked.Add($"the mount options of {Q(t.Path)}");
            if (t.Mount is { NoExec: true } m)
            {
                yield return new Explanation(Id,
                    $"{Q(t.Path)} is on the mount {Q(m.MountPoint)} ({m.FsType}, options {string.Join(',', m.Options)}), which is mounted noexec: nothing on it may be executed, whatever its permission bits",
                    $"run it from another file system, or remount: mount -o remount,exec {Sh(m.MountPoint)}");
                continue;
            }
            // A script whose interpreter lives on a noexec mount fails the same way.
            var interp = ExecInterpreterMissing.Interpreter(t.HostPath, out bool script, out _, out _);
            if (interp is null) continue;
            var iw = proc.PathWalk(interp);
            if (iw.Ok && iw.Target is { Mount: { NoExec: true } im })
                yield return new Explanation(Id,
                    $"{Q(t.Path)} needs the {(script ? "\"#!\" interpreter" : "program interpreter")} {Q(iw.Target.Path)}, which is on the mount {Q(im.MountPoint)} ({im.FsType}) mounted noexec",
                    $"remount: mount -o remount,exec {Sh(im.MountPoint)}");
        }
    }
}
