using System.Text.Encodings.Web;
using System.Text.Json;

namespace Whyfail.Rendering;

/// <summary>
/// JSON Lines on a stream: one object per line, every non-ASCII and control character escaped
/// (output may end up in terminals and logs). Shared by the trace and graph writers.
/// </summary>
public sealed class JsonLines
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.Default, Indented = false, SkipValidation = false };
    private readonly Stream _out;

    public Utf8JsonWriter Writer { get; }

    public JsonLines(Stream output)
    {
        _out = output;
        Writer = new Utf8JsonWriter(output, Options);
    }

    /// <summary>Ends the object just written: newline, flush.</summary>
    public void EndLine()
    {
        Writer.Flush();
        _out.WriteByte((byte)'\n');
        _out.Flush();
        Writer.Reset();
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
