using System.Text.Json;
using Whyfail.Events;

namespace Whyfail.Rendering;

/// <summary>The source-line fields of the JSON "origin" object (docs/json.md): always present, null or empty when unknown.</summary>
public static class SourceJson
{
    public static void Write(Utf8JsonWriter w, Events.Origin o)
    {
        if (o.Frames.Count > 0)
        {
            w.WriteString("file", o.Frames[0].File);
            w.WriteNumber("line", o.Frames[0].Line);
        }
        else
        {
            w.WriteNull("file");
            w.WriteNull("line");
        }
        WriteFrames(w, "frames", o.Frames);
        // Parallel to "chain": [0] is the origin's own location, [i] where chain[i] called inward.
        w.WriteStartArray("chain_frames");
        if (o.Frames.Count > 0 || o.ChainFrames.Count > 0)
        {
            WriteFrames(w, null, o.Frames);
            for (int i = 1; i < o.Chain.Count; i++) WriteFrames(w, null, i - 1 < o.ChainFrames.Count ? o.ChainFrames[i - 1] : []);
        }
        w.WriteEndArray();
        if (o.SiteKind is null) w.WriteNull("site"); else w.WriteString("site", o.SiteKind);
        w.WriteStartArray("sites");
        foreach (var s in o.Sites)
        {
            w.WriteStartObject();
            w.WriteNumber("offset", s.Offset);
            w.WriteString("function", s.Frames[0].Function);
            w.WriteString("file", s.Frames[0].File);
            w.WriteNumber("line", s.Frames[0].Line);
            if (s.Text is null) w.WriteNull("text"); else w.WriteString("text", s.Text);
            WriteFrames(w, "frames", s.Frames);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteBoolean("pinpointed", o.Pinpointed);
        if (o.Snippet is { } snip)
        {
            w.WriteStartObject("snippet");
            w.WriteString("file", snip.File);
            w.WriteNumber("first_line", snip.FirstLine);
            w.WriteNumber("line", snip.Line);
            w.WriteStartArray("lines");
            foreach (var l in snip.Lines) w.WriteStringValue(l);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        else
            w.WriteNull("snippet");
    }

    private static void WriteFrames(Utf8JsonWriter w, string? name, IReadOnlyList<SourceFrame> frames)
    {
        if (name is null) w.WriteStartArray(); else w.WriteStartArray(name);
        foreach (var f in frames)
        {
            w.WriteStartObject();
            w.WriteString("function", f.Function);
            w.WriteString("file", f.File);
            w.WriteNumber("line", f.Line);
            w.WriteBoolean("inlined", f.Inlined);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }
}
