using Whyfail.Events;
using static Whyfail.Analysis.Explain.Words;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// EBADF: the descriptor is negative or not open in the process now, or it is open with an access mode that
/// does not allow the operation (read on O_WRONLY, write on O_RDONLY, anything on O_PATH, a write lock on a
/// read-only descriptor).
/// </summary>
public sealed class BadDescriptor : IExplainRule
{
    public string Id => "fd.bad";

    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.EBADF;

    /// <summary>fcntl(fd, F_GETFD): the usual test of whether a descriptor is open (shells probe 255 this way).</summary>
    private static bool IsOpenProbe(SyscallEvent ev) => ev.Syscall == "fcntl" && SyscallArgs.Int(ev, 1) == Capture.Native.Libc.F_GETFD;

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        var candidates = new List<(int Fd, string Role)>();
        foreach (var i in SyscallArgs.FdArgs(ev)) candidates.Add((SyscallArgs.Int(ev, i), $"argument {i}"));
        foreach (var pa in SyscallArgs.Paths(ev))
            if (pa.Dirfd is { } dfd && dfd != ProcessView.AT_FDCWD && !pa.Path.StartsWith('/'))
                candidates.Add((dfd, pa.Path.Length == 0 ? "the file itself: an empty path with AT_EMPTY_PATH" : $"the directory descriptor for {Q(pa.Path)}"));
        if (candidates.Count == 0) yield break;
        bool probe = IsOpenProbe(ev);
        if (!proc.Alive && !candidates.All(c => proc.FdKnown(c.Fd)))
        {
            // For these calls EBADF has one meaning: the descriptor was not open when the call ran.
            if (candidates.Count == 1 && (probe || ev.Syscall is "close" or "dup" or "dup2" or "dup3" or "fstat" or "fchdir"))
            {
                var (fd, role) = candidates[0];
                yield return new Explanation(Id,
                    fd < 0 ? $"{role} is {fd}, which is never a valid descriptor"
                        : $"descriptor {fd} ({role}) was not open in pid {proc.Pid} when the call ran: {ev.Syscall} fails with EBADF for nothing else" +
                          (probe ? $"; fcntl(F_GETFD) is how programs test whether a descriptor is open, and the answer was no" : ""),
                    probe ? null : "check where it is closed, or whether it was inherited as expected", FromErrno: true);
                yield break;
            }
            proc.Checked.Add("nothing: the process is gone, so its descriptors cannot be read");
            yield break;
        }

        var open = proc.Alive ? proc.FdNumbers() : [];
        foreach (var (fd, role) in candidates)
        {
            proc.Checked.Add($"descriptor {fd} ({role})");
            if (fd < 0)
            {
                yield return new Explanation(Id,
                    $"{role} is {fd}, which is never a valid descriptor",
                    "it is probably the unchecked result of a failed open()/socket()/accept(): check that call's return value");
                continue;
            }
            var info = proc.Fd(fd);
            if (info is null)
            {
                // The context says so as of the call; the live list only while the process runs.
                var notOpen = (proc.FdKnown(fd) ? $"was not open in pid {proc.Pid} when the call ran" : $"is not open in pid {proc.Pid}") +
                    (proc.Alive ? $" (open now: {Ranges(open)})" : "");
                yield return probe
                    ? new Explanation(Id,
                        $"descriptor {fd} ({role}) {notOpen}; fcntl(F_GETFD) is how programs test whether a descriptor is open, and the answer was no",
                        null)
                    : new Explanation(Id,
                        $"descriptor {fd} ({role}) {notOpen}; it was already closed (double close?) or never opened",
                        "check where it is closed, or whether it was inherited as expected");
                continue;
            }
            var target = Q(proc.FdTarget(info));
            string? why = null;
            if (info.IsPath && ev.Syscall is not ("fstat" or "close" or "fchdir" or "dup" or "dup2" or "dup3" or "fcntl" or "fstatfs"))
                why = $"it was opened with O_PATH, which only names the file: no reading, writing, ioctl or mmap";
            else if (SyscallArgs.ReadsFd(ev.Syscall) && !info.CanRead)
                why = $"it was opened {info.AccessWords}, so it cannot be read";
            else if (SyscallArgs.WritesFd(ev.Syscall) && !info.CanWrite)
                why = $"it was opened {info.AccessWords}, so it cannot be written";
            else if (ev.Syscall == "fcntl" && SyscallArgs.Int(ev, 1) is 6 or 7 or 37 or 38 && FlockType(ev) is { } lt)
            {
                if (lt == 1 && !info.CanWrite) why = $"a write lock (F_WRLCK) needs a descriptor open for writing, and it was opened {info.AccessWords}";
                else if (lt == 0 && !info.CanRead) why = $"a read lock (F_RDLCK) needs a descriptor open for reading, and it was opened {info.AccessWords}";
            }
            if (why != null)
            {
                yield return new Explanation(Id, $"descriptor {fd} refers to {target}, and {why}",
                    "open it with the access mode the operation needs (O_RDWR for both)");
            }
            else if (candidates.Count == 1 && !proc.FdKnown(fd))
            {
                yield return new Explanation(Id,
                    $"descriptor {fd} is open now (on {target}, {info.AccessWords}) in a way that allows {ev.Syscall}; it was probably closed at the time of the call and the number has been reused since",
                    null, false);
            }
        }
    }

    private static int? FlockType(SyscallEvent ev) => ev.Capture(2)?.Data is { Length: >= 2 } d ? BitConverter.ToInt16(d, 0) : null;

    /// <summary>"0-2, 5, 7-9".</summary>
    internal static string Ranges(IReadOnlyList<int> fds)
    {
        if (fds.Count == 0) return "none";
        var parts = new List<string>();
        int start = fds[0], prev = fds[0];
        foreach (var f in fds.Skip(1).Append(int.MinValue))
        {
            if (f == prev + 1) { prev = f; continue; }
            parts.Add(start == prev ? $"{start}" : $"{start}-{prev}");
            if (parts.Count >= 12) { parts.Add("…"); break; }
            start = prev = f;
        }
        return string.Join(", ", parts);
    }
}
