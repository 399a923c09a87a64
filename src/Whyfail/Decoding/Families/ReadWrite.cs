namespace Whyfail.Decoding;

/// <summary>
/// read, write, pread64, pwrite64, readv, writev, close, dup*, pipe*. What a process writes is shown
/// as a string (limited); what a failed read left in its buffer means nothing, so reads show the pointer.
/// </summary>
internal static class ReadWriteFamily
{
    public static void Register(Registry r)
    {
        r.Add("read", c => [c.Fd(0), c.Ptr(1), c.UDec(2)]);
        r.Add("pread64", c => [c.Fd(0), c.Ptr(1), c.UDec(2), c.LDec(3)]);
        r.Add("write", c => [c.Fd(0), c.Buf(1), c.UDec(2)], s => s.Sized(1, 2, CaptureSpec.BufferSize));
        r.Add("pwrite64", c => [c.Fd(0), c.Buf(1), c.UDec(2), c.LDec(3)], s => s.Sized(1, 2, CaptureSpec.BufferSize));
        r.Add("close", c => [c.Fd(0)]);
        r.Add("dup", c => [c.Fd(0)]);
        r.Add("dup2", c => [c.Fd(0), c.Fd(1)]);
        r.Add("dup3", c => [c.Fd(0), c.Fd(1), c.Flags(2, "open_flags")]);
        r.Add("pipe2", c => [c.Ptr(0), c.Flags(1, "open_flags")]);
        r.Add("mq_timedsend", c => [c.Fd(0), c.Buf(1), c.UDec(2), c.UDec(3), c.Ptr(4)],
              s => s.Sized(1, 2, CaptureSpec.BufferSize));
        // readv, writev, pipe, sendfile: the default notation.
    }
}
