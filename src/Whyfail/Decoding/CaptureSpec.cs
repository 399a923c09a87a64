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

    /// <summary>Second-level copies (WF_MAX_NESTED): pointers found inside argument <see cref="NestedArg"/>'s copy.</summary>
    public const int MaxNested = 8;

    /// <summary>The argument whose copied structure holds the nested pointers (0xff: none).</summary>
    public byte NestedArg = 0xff;
    /// <summary>Per nested entry: byte offset of the pointer (a u64) in that structure.</summary>
    public byte[] NestedPtr = new byte[MaxNested];
    /// <summary>Per nested entry: byte offset of the length in that structure.</summary>
    public byte[] NestedLen = new byte[MaxNested];
    /// <summary>Per nested entry: the length's size, 4 or 8 bytes.</summary>
    public byte[] NestedLenSize = new byte[MaxNested];
    /// <summary>Per nested entry: bytes per unit of the length (1: it counts bytes; 16: iovecs).</summary>
    public ushort[] NestedElem = new ushort[MaxNested];
    /// <summary>Per nested entry: the size cap (0: entry unused).</summary>
    public ushort[] NestedSize = new ushort[MaxNested];

    /// <summary>The argument whose first <see cref="EntrySize"/> bytes are also copied at sys_enter (in/out structures).</summary>
    public byte EntryArg;
    /// <summary>Bytes copied at entry (at most <see cref="EntryMax"/>; 0: none).</summary>
    public byte EntrySize;

    /// <summary>WF_ENTRY_MAX: bytes an entry copy keeps.</summary>
    public const int EntryMax = 16;

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

    /// <summary>
    /// Nested entry <paramref name="k"/>: the pointer at byte <paramref name="ptrOff"/> of argument
    /// <paramref name="arg"/>'s copy (a structure captured Fixed or Sized), <paramref name="lenOff"/>'s
    /// <paramref name="lenSize"/>-byte length times <paramref name="elem"/> bytes, up to <paramref name="cap"/>.
    /// Every entry of a call takes its pointer from the same argument.
    /// </summary>
    internal CaptureSpec Nested(int k, int arg, int ptrOff, int lenOff, int lenSize, int elem, int cap)
    {
        if (NestedArg != 0xff && NestedArg != arg)
            throw new ArgumentException($"nested entries of one call come from one argument (arg{NestedArg}, not arg{arg})");
        NestedArg = (byte)arg;
        NestedPtr[k] = checked((byte)ptrOff);
        NestedLen[k] = checked((byte)lenOff);
        NestedLenSize[k] = (byte)(lenSize == 4 ? 4 : 8);
        NestedElem[k] = checked((ushort)elem);
        NestedSize[k] = (ushort)Math.Clamp(cap, 0, 4096);
        return this;
    }

    /// <summary>
    /// Also copies argument <paramref name="arg"/>'s first <paramref name="size"/> bytes at sys_enter, before the kernel
    /// writes back into it (perf_event_attr.size on E2BIG, the capability header's version, file_handle.handle_bytes on
    /// EOVERFLOW); only arguments 0, 1, 2 and 4.
    /// </summary>
    internal CaptureSpec Entry(int arg, int size)
    {
        if (arg is not (0 or 1 or 2 or 4)) throw new ArgumentException($"entry copies take arguments 0, 1, 2 or 4, not {arg}");
        EntryArg = (byte)arg;
        EntrySize = (byte)Math.Clamp(size, 1, EntryMax);
        return this;
    }

    /// <summary>A copy the caller may change.</summary>
    internal CaptureSpec Clone()
    {
        var c = new CaptureSpec();
        Array.Copy(Kind, c.Kind, 6);
        Array.Copy(LenArg, c.LenArg, 6);
        Array.Copy(Size, c.Size, 6);
        c.FdArgs = FdArgs;
        c.NestedArg = NestedArg;
        c.EntryArg = EntryArg;
        c.EntrySize = EntrySize;
        Array.Copy(NestedPtr, c.NestedPtr, MaxNested);
        Array.Copy(NestedLen, c.NestedLen, MaxNested);
        Array.Copy(NestedLenSize, c.NestedLenSize, MaxNested);
        Array.Copy(NestedElem, c.NestedElem, MaxNested);
        Array.Copy(NestedSize, c.NestedSize, MaxNested);
        return c;
    }

    public override string ToString() =>
        string.Join(", ", Enumerable.Range(0, 6).Where(i => Kind[i] != CaptureKind.None)
            .Select(i => $"arg{i}={Kind[i]}/{Size[i]}" + (Kind[i] is CaptureKind.Sized or CaptureKind.SizedByPointer ? $"/len=arg{LenArg[i]}" : ""))
            .Concat(Enumerable.Range(0, MaxNested).Where(k => NestedSize[k] != 0)
                .Select(k => $"nested{k}=arg{NestedArg}+{NestedPtr[k]}/len+{NestedLen[k]}x{NestedElem[k]}/{NestedSize[k]}"))
            .Concat(EntrySize != 0 ? [$"entry=arg{EntryArg}/{EntrySize}"] : []));
}
