using System.Runtime.InteropServices;
using Whyfail.Capture.Native;

namespace Whyfail.Capture;

/// <summary>
/// How much of the BPF ring buffer is waiting to be read: the kernel's producer position minus user space's
/// consumer position, read from the ring's two control pages (mapped read-only beside libbpf's own mapping).
/// libbpf 1.1 has no call for it (ring__avail_data_size came in 1.3).
/// </summary>
internal sealed unsafe class RingBacklog : IDisposable
{
    private readonly nint _map;
    private readonly nuint _length;
    private readonly ulong* _consumer, _producer;

    /// <summary>The ring's data size in bytes.</summary>
    public long Size { get; }

    private RingBacklog(nint map, nuint length, long size)
    {
        _map = map;
        _length = length;
        _consumer = (ulong*)map;
        _producer = (ulong*)(map + (nint)Environment.SystemPageSize);
        Size = size;
    }

    /// <summary>Maps the control pages of ring buffer map <paramref name="fd"/>, or null when the kernel refuses.</summary>
    public static RingBacklog? Open(int fd, long size)
    {
        nuint length = (nuint)(2 * Environment.SystemPageSize);
        nint map = Libc.Mmap(0, length, Libc.PROT_READ, Libc.MAP_SHARED, fd, 0);
        return map == -1 ? null : new RingBacklog(map, length, size);
    }

    /// <summary>Bytes written by the kernel and not yet consumed.</summary>
    public long Bytes
    {
        get
        {
            ulong consumer = Volatile.Read(ref *_consumer), producer = Volatile.Read(ref *_producer);
            return producer > consumer ? (long)(producer - consumer) : 0;
        }
    }

    public void Dispose() => Libc.Munmap(_map, _length);
}
