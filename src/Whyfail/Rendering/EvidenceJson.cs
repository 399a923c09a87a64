using System.Text.Json;
using Whyfail.Events;

namespace Whyfail.Rendering;

/// <summary>One piece of evidence as a JSON object: "kind", its fields in order, then "text" (docs/json.md, evidence[]).</summary>
public static class EvidenceJson
{
    public static void Write(Utf8JsonWriter w, Evidence e)
    {
        w.WriteStartObject();
        w.WriteString("kind", e.Kind);
        foreach (var f in e.Fields) WriteField(w, f);
        w.WriteString("text", e.Text);
        w.WriteEndObject();
    }

    private static void WriteField(Utf8JsonWriter w, EvidenceField f)
    {
        switch (f.Value)
        {
            case string s: w.WriteString(f.Name, s); break;
            case long n: w.WriteNumber(f.Name, n); break;
            case ulong u: w.WriteNumber(f.Name, u); break;
            case bool b: w.WriteBoolean(f.Name, b); break;
            case IReadOnlyList<string> list: JsonLines.WriteStrings(w, f.Name, list); break;
            default: throw new InvalidOperationException($"evidence field {f.Name}: unsupported value type {f.Value.GetType().Name}");
        }
    }
}
