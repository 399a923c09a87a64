namespace Whyfail.Decoding;

/// <summary>
/// read, write, pread64, pwrite64, readv, writev, preadv*, pwritev*, process_vm_readv/writev, close, dup*, pipe*. What a process writes is shown
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
        // A failed read's iovecs are shown with their addresses (the buffers hold nothing of the program's); the offset of
        // preadv/pwritev is pos_l (the whole loff_t on x86_64), signed. What writev writes is shown, as write's buffer is.
        r.Add("readv", c => [c.Fd(0), Arrays.Iovecs(c, 1, c[2]), c.UDec(2)], s => s.Fixed(1, Arrays.Copied * Arrays.IovecSize));
        r.Add("preadv", c => [c.Fd(0), Arrays.Iovecs(c, 1, c[2]), c.UDec(2), c.LDec(3)],
              s => s.Fixed(1, Arrays.Copied * Arrays.IovecSize));
        r.Add("preadv2", c => [c.Fd(0), Arrays.Iovecs(c, 1, c[2]), c.UDec(2), c.LDec(3), c.Flags(5, "rwf_flags")],
              s => s.Fixed(1, Arrays.Copied * Arrays.IovecSize));
        r.Add("writev", c => [c.Fd(0), Arrays.WrittenIovecs(c, 1, c[2]), c.UDec(2)], s => Arrays.WrittenIovecSpec(s, 1));
        r.Add("pwritev", c => [c.Fd(0), Arrays.WrittenIovecs(c, 1, c[2]), c.UDec(2), c.LDec(3)], s => Arrays.WrittenIovecSpec(s, 1));
        r.Add("pwritev2", c => [c.Fd(0), Arrays.WrittenIovecs(c, 1, c[2]), c.UDec(2), c.LDec(3), c.Flags(5, "rwf_flags")],
              s => Arrays.WrittenIovecSpec(s, 1));
        // process_vm_readv/writev: the remote iovecs are addresses in another process, shown as such (and the local ones of a
        // read); the local ones of a write with the data written.
        r.Add("process_vm_readv", c => [c.Dec(0), Arrays.Iovecs(c, 1, c[2]), c.UDec(2), Arrays.Iovecs(c, 3, c[4]), c.UDec(4), c.UDec(5)],
              s => s.Fixed(1, Arrays.Copied * Arrays.IovecSize).Fixed(3, Arrays.Copied * Arrays.IovecSize));
        r.Add("process_vm_writev", c => [c.Dec(0), Arrays.WrittenIovecs(c, 1, c[2]), c.UDec(2), Arrays.Iovecs(c, 3, c[4]), c.UDec(4), c.UDec(5)],
              s => Arrays.WrittenIovecSpec(s, 1).Fixed(3, Arrays.Copied * Arrays.IovecSize));
        // pipe: the default notation.
    }
}
