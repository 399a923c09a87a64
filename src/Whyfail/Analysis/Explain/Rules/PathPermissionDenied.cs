using Whyfail.Events;
using static Whyfail.Analysis.Explain.Words;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// EACCES on a path: the directory the process may not search, or the file (or parent directory) lacking the
/// read/write/execute permission the call needs — checked with the kernel's rules (owner/group/other bits,
/// POSIX ACL, supplementary groups, CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH) and the process's credentials.
/// </summary>
public sealed class PathPermissionDenied : IExplainRule
{
    public string Id => "path.permission_denied";

    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.EACCES && SyscallArgs.Paths(ev).Count > 0;

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        var paths = SyscallArgs.Paths(ev);
        foreach (var pa in paths)
        {
            var creds = PathRules.CredsFor(ev, proc, pa);
            var w = PathRules.Walk(ev, proc, pa);
            if (PathRules.NoteUnwalkable(proc, w)) continue;
            var realNote = pa.Op == PathOp.Access && creds.Fsuid != proc.Creds.Fsuid
                ? $" ({ev.Syscall} checks with the real uid {creds.Uid}, not the effective uid {proc.Creds.Euid})" : "";

            if (w.Outcome == WalkOutcome.SearchDenied && w.FailedAt is { Search: { } chk } dir)
            {
                yield return new Explanation(Id,
                    $"{Q(dir.Path)} has {Owner(proc, dir)}{Acl(dir)}; {Who(proc, creds, dir, chk)} has no search (x) permission on it, so {Q(pa.Path)} cannot be reached through it{realNote}",
                    GrantFix(proc, creds, dir, chk, Access.Exec));
                continue;
            }
            proc.Checked.Add($"search permission on each directory of {Q(pa.Path)} for {proc.DescribeUser(creds.Fsuid)}");
            bool reachedEnd = w.Ok || (w.Outcome == WalkOutcome.Missing && w.FailedAt == w.Target && w.Target != null);
            if (!reachedEnd || w.Target is not { } t) continue;

            if (pa.Op == PathOp.Exec && t.Exists)
            {
                if (t.Kind != FileKind.Regular)
                {
                    yield return new Explanation(Id, $"{Q(t.Path)} is {A(t.Kind)}; only regular files can be executed");
                    continue;
                }
                if (t.Mount is { NoExec: true }) continue; // exec.noexec_mount explains it
            }

            // The directory the name is created in or removed from.
            var parentNeed = PathRules.NeedsOnParent(ev, pa, t);
            if (parentNeed != Access.None && w.TargetDir is { Exists: true } pd)
            {
                var pc = Permissions.Check(creds, pd.Stat, parentNeed, pd.Acl);
                if (!pc.Allowed)
                {
                    var verb = pa.Op == PathOp.Remove ? $"remove {Q(t.Name)} from it" : $"create {Q(t.Name)} in it";
                    yield return new Explanation(Id,
                        $"{Q(pd.Path)} has {Owner(proc, pd)}{Acl(pd)}; {Who(proc, creds, pd, pc)} has no {AccessName(pc.Missing, true)} permission on it, which {ev.Syscall} needs to {verb}",
                        GrantFix(proc, creds, pd, pc, pc.Missing));
                    continue;
                }
                proc.Checked.Add($"write permission on {Q(pd.Path)}");
            }

            // Moving a directory to another parent rewrites its "..": it needs write permission on itself.
            if (pa.Op == PathOp.Remove && t is { Exists: true, Kind: FileKind.Directory } && ev.Syscall.StartsWith("rename", StringComparison.Ordinal)
                && paths.FirstOrDefault(p => p.Op == PathOp.RenameTo) is { } to
                && PathRules.Walk(ev, proc, to).TargetDir is { Exists: true } newDir && w.TargetDir is { } oldDir && !newDir.Stat.SameFile(oldDir.Stat))
            {
                var dc = Permissions.Check(creds, t.Stat, Access.Write, t.Acl);
                if (!dc.Allowed)
                {
                    yield return new Explanation(Id,
                        $"{Q(t.Path)} is a directory with {Owner(proc, t)}; moving it to another directory rewrites its \"..\" entry, which needs write (w) permission on it, and {Who(proc, creds, t, dc)} has none",
                        GrantFix(proc, creds, t, dc, Access.Write));
                    continue;
                }
            }

            if (!t.Exists) continue;
            var want = PathRules.NeedsOnTarget(ev, pa, t);
            if (want == Access.None) continue;
            var c = Permissions.Check(creds, t.Stat, want, t.Acl);
            proc.Checked.Add($"{AccessName(want, t.Kind == FileKind.Directory)} permission on {Q(t.Path)} for {proc.DescribeUser(creds.Fsuid)}");
            if (c.Allowed)
            {
                if (pa.Op == PathOp.Exec && Interpreter(proc, creds, t) is { } ie) yield return ie;
                continue;
            }
            var what = pa.Op switch
            {
                PathOp.Open => $"{ev.Syscall} with {PathRules.OpenFlagWords(SyscallArgs.OpenFlags(ev) ?? 0)} needs",
                PathOp.Exec => "execve needs",
                PathOp.Access => $"{ev.Syscall} asked for",
                _ => $"{ev.Syscall} needs",
            };
            var text = $"{Q(t.Path)} ({Kind(t.Kind)}) has {Owner(proc, t)}{Acl(t)}; {Who(proc, creds, t, c)} has no {AccessName(c.Missing, t.Kind == FileKind.Directory)} permission on it, which {what}{realNote}";
            if (pa.Op == PathOp.Exec && (t.Mode & 0x49) == 0) text += "; no execute bit is set at all, which stops even root";
            yield return new Explanation(Id, text + PathRules.Via(t), GrantFix(proc, creds, t, c, c.Missing));
        }
    }

    // A script runs its "#!" interpreter (or an ELF program its loader): that file needs search on its
    // directories and execute permission too.
    private Explanation? Interpreter(ProcessView proc, Credentials creds, PathComponent prog)
    {
        var interp = ExecInterpreterMissing.Interpreter(prog.HostPath, out bool script, out _, out _);
        if (interp is null) return null;
        var iw = proc.PathWalk(interp, null, true, creds);
        var role = script ? "its \"#!\" interpreter" : "its program interpreter (dynamic loader)";
        proc.Checked.Add($"{role} {Q(interp)}");
        if (iw.Outcome == WalkOutcome.SearchDenied && iw.FailedAt is { Search: { } sc } d)
            return new Explanation(Id,
                $"{Q(prog.Path)} needs {role} {Q(interp)}, but {Q(d.Path)} has {Owner(proc, d)} and {Who(proc, creds, d, sc)} has no search (x) permission on it",
                GrantFix(proc, creds, d, sc, Access.Exec));
        if (iw.Ok && iw.Target is { Exists: true } it)
        {
            var ic = Permissions.Check(creds, it.Stat, Access.Exec, it.Acl);
            if (!ic.Allowed)
                return new Explanation(Id,
                    $"{Q(prog.Path)} needs {role} {Q(it.Path)}, which has {Owner(proc, it)}; {Who(proc, creds, it, ic)} has no execute (x) permission on it",
                    GrantFix(proc, creds, it, ic, Access.Exec));
        }
        return null;
    }

    private static string Acl(PathComponent c) => c.Acl is { } a ? $", ACL {string.Join(',', a)}" : "";
}
