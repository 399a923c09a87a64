using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Whyfail.Rendering;

/// <summary>
/// JSON Lines on a stream: one object per line, every non-ASCII and control character escaped
/// (output may end up in terminals and logs). Shared by the trace and graph writers.
/// </summary>
public sealed class JsonLines
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JsonEscaping.Instance, Indented = false, SkipValidation = false };
    private readonly Stream _out;
    private readonly ArrayBufferWriter<byte> _pending = new(1 << 16);

    public Utf8JsonWriter Writer { get; }

    private readonly bool _buffered;

    /// <summary>
    /// <paramref name="buffered"/>: lines collect in memory and reach the stream in large writes from
    /// <see cref="Flush"/> (the trace session calls it after each batch of events) or when 256 KiB are
    /// pending — one write(2) per event was most of the cost at a flood of failures. Otherwise each
    /// line is written and flushed at once. (Utf8JsonWriter.Flush on a Stream flushes the stream too,
    /// hence the buffer writer.)
    /// </summary>
    public JsonLines(Stream output, bool buffered = false)
    {
        _buffered = buffered;
        _out = output;
        Writer = new Utf8JsonWriter(_pending, Options);
    }

    /// <summary>Ends the object just written: a newline; written out when enough is pending or at <see cref="Flush"/>.</summary>
    public void EndLine()
    {
        Writer.Flush();
        _pending.Write("\n"u8);
        Writer.Reset();
        if (!_buffered) Flush();
        else if (_pending.WrittenCount >= 1 << 18) WritePending();
    }

    private void WritePending()
    {
        _out.Write(_pending.WrittenSpan);
        _pending.ResetWrittenCount();
    }

    /// <summary>Where the current line stands (its bytes so far are committed): see <see cref="Since"/>.</summary>
    public int Mark()
    {
        Writer.Flush();
        return _pending.WrittenCount;
    }

    /// <summary>The bytes of the current line written since <paramref name="mark"/> (from <see cref="Mark"/>).</summary>
    public ReadOnlySpan<byte> Since(int mark)
    {
        Writer.Flush();
        return _pending.WrittenSpan[mark..];
    }

    /// <summary>
    /// Where a line made of bytes this writer made before goes (a repeated event's line): written there instead of through
    /// <see cref="Writer"/>, then ended with <see cref="EndLine"/>. Only between lines.
    /// </summary>
    public IBufferWriter<byte> Raw
    {
        get
        {
            Writer.Flush();
            return _pending;
        }
    }

    /// <summary>Writes out what is pending and flushes the stream.</summary>
    public void Flush()
    {
        WritePending();
        _out.Flush();
    }

    /// <summary>A <c>{"type": "notice", "text": …}</c> line.</summary>
    public void Notice(string text)
    {
        Writer.WriteStartObject();
        Writer.WriteString("type", "notice");
        Writer.WriteString("text", text);
        Writer.WriteEndObject();
        EndLine();
    }

    public static void WriteStrings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteStringValue(v);
        w.WriteEndArray();
    }
}
