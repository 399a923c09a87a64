using Whyfail.Events;

namespace Whyfail.Decoding;

/// <summary>
/// What the BPF side copies from user memory for one system call, per argument (mirrors
/// struct wf_capture_spec in bpf/whyfail.h): the kind, the argument holding the length (for
/// <see cref="CaptureKind.Sized"/> and <see cref="CaptureKind.SizedByPointer"/>) and the size cap.
/// </summary>
public sealed class CaptureSpec
{
    /// <summary>Paths are captured whole: explanations need the full path (PATH_MAX, WF_MAX_BLOB).</summary>
    public const ushort PathSize = 4096;
    /// <summary>Other strings (xattr names, fs types, mount data).</summary>
    public const ushort StringSize = 256;
    /// <summary>Data buffers shown as strings (write, sendto, setsockopt values).</summary>
    public const ushort BufferSize = 256;
    /// <summary>Socket addresses (sizeof(struct sockaddr_storage)).</summary>
    public const ushort SockaddrSize = 128;

    public CaptureKind[] Kind = new CaptureKind[6];
    public byte[] LenArg = new byte[6];
    public ushort[] Size = new ushort[6];

    /// <summary>Bit i: argument i is a file descriptor; the kernel side records its file in the failure's context.</summary>
    public byte FdArgs;

    /// <summary>Whether any user memory is captured at all.</summary>
    public bool Any => Kind.Any(k => k != CaptureKind.None);

    /// <summary>Whether the kernel side needs this spec at all (memory to copy or descriptors to describe).</summary>
    public bool Needed => Any || FdArgs != 0;

    internal CaptureSpec Set(int arg, CaptureKind kind, int size, int lenArg = 0)
    {
        Kind[arg] = kind;
        Size[arg] = (ushort)Math.Clamp(size, 0, ushort.MaxValue);
        LenArg[arg] = (byte)lenArg;
        return this;
    }

    internal CaptureSpec Str(int arg, int size = StringSize) => Set(arg, CaptureKind.String, size);
    internal CaptureSpec Path(int arg) => Set(arg, CaptureKind.String, PathSize);
    internal CaptureSpec Fixed(int arg, int size) => Set(arg, CaptureKind.Fixed, size);
    internal CaptureSpec Sized(int arg, int lenArg, int cap) => Set(arg, CaptureKind.Sized, cap, lenArg);
    internal CaptureSpec SizedByPointer(int arg, int lenPtrArg, int cap) => Set(arg, CaptureKind.SizedByPointer, cap, lenPtrArg);
    internal CaptureSpec Vector(int arg) => Set(arg, CaptureKind.StringVector, 0);
    internal CaptureSpec None(int arg) => Set(arg, CaptureKind.None, 0);

    public override string ToString() =>
        string.Join(", ", Enumerable.Range(0, 6).Where(i => Kind[i] != CaptureKind.None)
            .Select(i => $"arg{i}={Kind[i]}/{Size[i]}" + (Kind[i] is CaptureKind.Sized or CaptureKind.SizedByPointer ? $"/len=arg{LenArg[i]}" : "")));
}
