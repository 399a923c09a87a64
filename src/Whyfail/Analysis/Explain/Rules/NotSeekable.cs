using Whyfail.Events;
using static Whyfail.Analysis.Explain.Words;
using static Whyfail.Capture.Native.Libc;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// ESPIPE: a positioned operation (lseek, pread/pwrite, fadvise, an offset given to splice or copy_file_range)
/// on a pipe, FIFO or socket, which are streams without a position. lseek(fd, 0, SEEK_CUR) is how programs
/// learn whether their input is a file: then the error is the answer, not a fault.
/// </summary>
public sealed class NotSeekable : IExplainRule
{
    public string Id => "fd.not_seekable";


    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.ESPIPE && SyscallArgs.FdArgs(ev).Length > 0;

    public bool FromEvidence => true; // ESPIPE has one meaning

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        int fd = SyscallArgs.Int(ev, SyscallArgs.FdArgs(ev)[0]);
        var info = proc.Fd(fd);
        string what = info == null ? "a pipe, FIFO or socket"
            : info.Target.StartsWith("pipe:", StringComparison.Ordinal) ? $"a pipe ({info.Target})"
            : info.Target.StartsWith("socket:", StringComparison.Ordinal) ? $"a socket ({info.Target})"
            : $"{Q(proc.FdTarget(info))}, a FIFO or a device without a position";
        bool probe = ev.Syscall == "lseek" && SyscallArgs.Int(ev, 1) == 0 && SyscallArgs.Int(ev, 2) == SEEK_CUR;
        yield return new Explanation(Id,
            $"descriptor {fd} is {what}: a stream without a file position, so {ev.Syscall} cannot {(ev.Syscall == "fadvise64" ? "advise on a range of it" : "seek or use an offset in it")}" +
            (probe ? "; lseek(fd, 0, SEEK_CUR) is how programs test whether a descriptor is a regular file, and the answer was no" : ""),
            probe || ev.Syscall == "fadvise64" ? null : "read and write it sequentially, or copy it to a regular file first when the program needs to seek");
    }
}
