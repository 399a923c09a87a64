using Microsoft.Win32.SafeHandles;
using System.Runtime.InteropServices;
using Whyfail.Capture.Native;

namespace Whyfail.Tracing;

/// <summary>
/// Opens -o FILE safely for a process running as root: never follows a symlink at the last
/// component (O_NOFOLLOW), refuses anything but a regular file with a single link, and truncates
/// only after those checks.
/// </summary>
public static unsafe class OutputFile
{
    public static Stream Open(string path)
    {
        int fd = Libc.Open(path, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_NOFOLLOW | Libc.O_CLOEXEC | Libc.O_NONBLOCK, 0x1a4 /* 0644 */);
        if (fd < 0)
        {
            int err = Marshal.GetLastPInvokeError();
            string why = err == 40 /* ELOOP */ ? "it is a symbolic link, which whyfail never follows when writing" : Libc.ErrorText(err);
            throw new WhyfailException($"cannot write output file {path}: {why}", ExitCodes.Output);
        }
        Libc.Stat st;
        if (Libc.Fstat(fd, &st) != 0 || (st.Mode & Libc.S_IFMT) != Libc.S_IFREG || st.Nlink != 1)
        {
            Libc.Close(fd);
            throw new WhyfailException($"cannot write output file {path}: it is not a regular file with a single link", ExitCodes.Output);
        }
        Libc.Ftruncate(fd, 0);
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        return new FileStream(handle, FileAccess.Write, 1 << 16);
    }
}
