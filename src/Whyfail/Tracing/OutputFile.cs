using Microsoft.Win32.SafeHandles;
using System.Runtime.InteropServices;
using Whyfail.Capture.Native;

namespace Whyfail.Tracing;

/// <summary>
/// Opens -o FILE safely for a process running as root: never follows a symlink at the last component
/// (O_NOFOLLOW); accepts a regular file with a single link (truncated only after the checks, or appended
/// to when reopened on SIGHUP), a character device (/dev/null, a terminal) or a FIFO (waiting for its
/// reader, as strace does); refuses anything else (a directory, a socket, a hard-linked file).
/// </summary>
public static unsafe class OutputFile
{
    /// <param name="append">Reopening after log rotation (SIGHUP): keep what a file already holds.</param>
    public static Stream Open(string path, bool append = false)
    {
        const int flags = Libc.O_WRONLY | Libc.O_CREAT | Libc.O_NOFOLLOW | Libc.O_CLOEXEC;
        int fd = Libc.Open(path, flags | Libc.O_NONBLOCK | (append ? Libc.O_APPEND : 0), 0x1a4 /* 0644 */);
        int err = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
        if (fd < 0 && err == 6 /* ENXIO: a FIFO nobody reads yet */)
        {
            // Blocking now waits for a reader; O_NOFOLLOW still applies, and the checks below run on what was opened.
            fd = Libc.Open(path, flags, 0x1a4);
            err = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
        }
        if (fd < 0)
        {
            string why = err == Errnos.ELOOP ? "it is a symbolic link, which whyfail never follows when writing" : Libc.ErrorText(err);
            throw new WhyfailException($"cannot write output file {path}: {why}", ExitCodes.Output);
        }
        Libc.Stat st;
        uint type = Libc.Fstat(fd, &st) == 0 ? st.Mode & Libc.S_IFMT : 0;
        bool regular = type == Libc.S_IFREG && st.Nlink == 1;
        if (!regular && type != Libc.S_IFCHR && type != Libc.S_IFIFO)
        {
            Libc.Close(fd);
            throw new WhyfailException($"cannot write output file {path}: it is not a regular file with a single link, a character device or a FIFO", ExitCodes.Output);
        }
        if (regular && !append) Libc.Ftruncate(fd, 0);
        // Writes block from here on (a slow reader of a FIFO or terminal slows whyfail, it does not lose lines).
        Libc.Fcntl(fd, Libc.F_SETFL, Libc.Fcntl(fd, Libc.F_GETFL, 0) & ~Libc.O_NONBLOCK);
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        return new FileStream(handle, FileAccess.Write, 1 << 16);
    }
}
