namespace Whyfail;

/// <summary>
/// The lines of some bytes (an embedded table, a small cache file), without allocating: each line is a slice of the
/// bytes. Lines end at '\n' or '\r' (so "\r\n" ends one line, as File.ReadLines and StreamReader read them); empty lines
/// are skipped, and with <c>comments</c> so are lines starting with '#'. <see cref="Offset"/> says where the current line
/// starts in the bytes given. Use: <c>foreach (var line in new ByteLines(bytes, comments: true))</c>.
/// </summary>
internal ref struct ByteLines(ReadOnlySpan<byte> data, bool comments)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private int _next;

    /// <summary>The current line, without its end.</summary>
    public ReadOnlySpan<byte> Current { get; private set; }

    /// <summary>Where <see cref="Current"/> starts in the bytes given.</summary>
    public int Offset { get; private set; }

    public readonly ByteLines GetEnumerator() => this;

    public bool MoveNext()
    {
        while (_next < _data.Length)
        {
            int start = _next;
            var rest = _data[start..];
            int end = rest.IndexOfAny((byte)'\n', (byte)'\r');
            if (end < 0) end = rest.Length;
            _next = start + end + 1;
            if (end == 0 || (comments && rest[0] == (byte)'#')) continue;
            Offset = start;
            Current = rest[..end];
            return true;
        }
        return false;
    }
}
