using System.Text.Json;
using Whyfail.Events;

namespace Whyfail.Rendering;

/// <summary>`whyfail deny`'s JSON fields: an event's "denied_by" and the summary's "deny" (docs/json.md).</summary>
public static class DenyJson
{
    public static void Write(Utf8JsonWriter w, Denial? d)
    {
        if (d is null)
        {
            w.WriteNull("denied_by");
            return;
        }
        w.WriteStartObject("denied_by");
        w.WriteNumber("rule", d.Rule);
        w.WriteString("text", d.RuleText);
        w.WriteString("hook", d.Hook);
        w.WriteString("matched", d.Matched);
        w.WriteEndObject();
    }

    public static void WriteSummary(Utf8JsonWriter w, DenySummary s)
    {
        w.WriteStartObject("deny");
        w.WriteStartArray("rules");
        foreach (var r in s.Rules)
        {
            w.WriteStartObject();
            w.WriteNumber("rule", r.Number);
            w.WriteString("text", r.Text);
            w.WriteNumber("refused", r.Refused);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteNumber("reported", s.Reported);
        w.WriteNumber("unreported", s.Unreported);
        w.WriteNumber("ring_full", s.RingFull);
        w.WriteNumber("unpaired", s.Unpaired);
        w.WriteEndObject();
    }
}
