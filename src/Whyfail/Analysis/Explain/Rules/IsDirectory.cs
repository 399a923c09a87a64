using Whyfail.Events;
using static Whyfail.Analysis.Explain.Words;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>EISDIR: a directory where the call needs a non-directory (writing, unlink, replacing, reading bytes).</summary>
public sealed class IsDirectory : IExplainRule
{
    public string Id => "path.is_directory";

    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.EISDIR;

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        var paths = SyscallArgs.Paths(ev);
        foreach (var pa in paths)
        {
            var w = PathRules.Walk(ev, proc, pa);
            if (PathRules.NoteUnwalkable(proc, w)) continue;
            proc.Checked.Add($"the type of {Q(pa.Path)}");
            if (!w.Ok || w.Target is not { Kind: FileKind.Directory } t) continue;
            string? why = pa.Op switch
            {
                PathOp.Open => $"a directory cannot be opened with {PathRules.OpenFlagWords(SyscallArgs.OpenFlags(ev) ?? 0)} (only read-only, to list it)",
                PathOp.Remove when !SyscallArgs.RemovesDirectory(ev) && !ev.Syscall.StartsWith("rename", StringComparison.Ordinal) => $"{ev.Syscall} removes only non-directories",
                PathOp.RenameTo => "a directory can only be replaced by a directory, and the source is not one",
                PathOp.Write => $"{ev.Syscall} works only on files",
                _ => null,
            };
            var fix = pa.Op == PathOp.Remove ? $"use rmdir (or unlinkat with AT_REMOVEDIR, or rm -r) for {Sh(t.Path)}" : null;
            if (why != null) yield return new Explanation(Id, $"{Q(t.Path)} is a directory; {why}", fix);
        }
        if (paths.Count == 0 && SyscallArgs.FdArgs(ev) is [var i, ..] && proc.Fd(SyscallArgs.Int(ev, i)) is { } fd && proc.StatFd(fd.Fd, out var st))
        {
            proc.Checked.Add($"the type of descriptor {fd.Fd}'s file");
            if (st.Kind == FileKind.Directory)
                yield return new Explanation(Id,
                    $"descriptor {fd.Fd} refers to the directory {Q(proc.FdTarget(fd))}; {ev.Syscall} cannot be used on a directory (directories are listed with getdents64)");
        }
    }
}
