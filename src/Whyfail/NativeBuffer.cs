using System.Runtime.InteropServices;
using Whyfail.Capture.Native;

namespace Whyfail;

/// <summary>
/// Bytes outside the managed heap: allocated (<see cref="Allocate"/>) or a file mapped read-only (<see cref="MapFile"/>).
/// For the kernel's big tables (kallsyms' 7 MB, BTF's 5 MB and their indexes): as arrays they were large-object-heap
/// allocations, which count toward a gen2 collection's budget and paused deep mode's start-up in the lab (bench/README
/// "The resolver's reads and the GC, session 17"). Freed when collected (or disposed); the running kernel's tables are
/// kept for the whole process.
/// </summary>
internal sealed unsafe class NativeBuffer : IDisposable
{
    private byte* _pointer;
    private readonly bool _mapped;

    private NativeBuffer(byte* pointer, long length, bool mapped)
    {
        _pointer = pointer;
        Length = length;
        _mapped = mapped;
    }

    public long Length { get; private set; }

    public byte* Pointer => _pointer != null ? _pointer : throw new ObjectDisposedException(nameof(NativeBuffer));

    public Span<byte> Span => new(Pointer, checked((int)Length));

    /// <summary><paramref name="length"/> bytes, not zeroed.</summary>
    public static NativeBuffer Allocate(long length) => new((byte*)NativeMemory.Alloc((nuint)Math.Max(1, length)), length, false);

    /// <summary>A copy of <paramref name="bytes"/>.</summary>
    public static NativeBuffer CopyOf(ReadOnlySpan<byte> bytes)
    {
        var b = Allocate(bytes.Length);
        bytes.CopyTo(new Span<byte>(b._pointer, bytes.Length));
        return b;
    }

    /// <summary>Grows (or shrinks) an allocated buffer to <paramref name="length"/> bytes, keeping its content.</summary>
    public void Resize(long length)
    {
        if (_mapped) throw new InvalidOperationException("a mapped file cannot be resized");
        _pointer = (byte*)NativeMemory.Realloc(Pointer, (nuint)Math.Max(1, length));
        Length = length;
    }

    /// <summary>The whole of an open file, mapped read-only and private; null when it cannot be mapped.</summary>
    public static NativeBuffer? MapFile(int fd, long length)
    {
        if (length <= 0) return null;
        nint map = Libc.Mmap(0, (nuint)length, Libc.PROT_READ, Libc.MAP_PRIVATE, fd, 0);
        return map == -1 ? null : new NativeBuffer((byte*)map, length, true);
    }

    /// <summary>
    /// Reads a file whole into native memory (a /proc or /sys file that says size 0 too: read until its end), with
    /// reads of 1 MiB: /proc/kallsyms is a seq_file, and small reads make it slow. Throws IOException or
    /// UnauthorizedAccessException.
    /// </summary>
    public static NativeBuffer ReadFile(string path, long expected = 0)
    {
        int fd = Libc.Open(path, Libc.O_CLOEXEC, 0);
        if (fd < 0) throw ErrnoException(path, Marshal.GetLastPInvokeError());
        var buffer = Allocate(Math.Max(expected + 1, 1 << 20));
        try
        {
            long length = 0;
            while (true)
            {
                if (length == buffer.Length) buffer.Resize(buffer.Length * 2);
                nint n = Libc.Read(fd, buffer._pointer + length, (nuint)Math.Min(buffer.Length - length, 1 << 20));
                if (n < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == Errnos.EINTR) continue;
                    throw ErrnoException(path, errno);
                }
                if (n == 0) break;
                length += n;
            }
            buffer.Resize(length);
            return buffer;
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
        finally
        {
            Libc.Close(fd);
        }
    }

    private static Exception ErrnoException(string path, int errno) =>
        errno is 1 or 13 ? new UnauthorizedAccessException($"{path}: {Marshal.GetPInvokeErrorMessage(errno)}")
            : new IOException($"{path}: {Marshal.GetPInvokeErrorMessage(errno)}");

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    ~NativeBuffer() => Free();

    private void Free()
    {
        var p = _pointer;
        _pointer = null;
        if (p == null) return;
        if (_mapped) Libc.Munmap((nint)p, (nuint)Length);
        else NativeMemory.Free(p);
    }
}
