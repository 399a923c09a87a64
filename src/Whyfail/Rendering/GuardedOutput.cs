namespace Whyfail.Rendering;

/// <summary>
/// The report's output stream, made safe to lose: the first write error (a full disk, a reader that went
/// away: EPIPE) is kept in <see cref="Failure"/> and every later write is dropped, so that whyfail stops
/// tracing, detaches and says what happened, instead of dying in the middle of a line with its probes
/// attached. The session polls <see cref="Failure"/> after each batch of events.
/// </summary>
public sealed class GuardedOutput(Stream inner, string name) : Stream
{
    /// <summary>What the output is, for the message ("/tmp/out.jsonl", "standard error").</summary>
    public string Name { get; } = name;

    /// <summary>The first write error ("No space left on device"), or null while every write succeeded.</summary>
    public string? Failure { get; private set; }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (Failure != null) return;
        try
        {
            inner.Write(buffer);
        }
        catch (IOException e)
        {
            Failure = e.Message;
        }
    }

    public override void WriteByte(byte value) => Write([value]);

    public override void Flush()
    {
        if (Failure != null) return;
        try
        {
            inner.Flush();
        }
        catch (IOException e)
        {
            Failure = e.Message;
        }
    }

    /// <summary>
    /// Writes out and closes the current stream and continues on <paramref name="next"/> (-o reopened on
    /// SIGHUP after log rotation). A write error of the old stream stays the session's failure.
    /// </summary>
    public void Replace(Stream next)
    {
        Flush();
        try
        {
            inner.Dispose();
        }
        catch (IOException e)
        {
            Failure ??= e.Message;
        }
        inner = next;
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            // A FileStream flushes what it buffered when disposed: that last write may fail too.
            try
            {
                inner.Dispose();
            }
            catch (IOException e)
            {
                Failure ??= e.Message;
            }
        }
        base.Dispose(disposing);
    }
}
