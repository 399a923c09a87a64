using System.Text.Json;
using Whyfail.Events;

namespace Whyfail.Rendering;

/// <summary>
/// Typed kernel function arguments (<see cref="ProbeValue"/>) as text and JSON, alike for `whyfail probe --args`,
/// the origin chain (--args) and `whyfail graph --args`: "name=value", a struct as "name=0xADDR {member=value, …}".
/// </summary>
public static class ArgumentText
{
    /// <summary>"dfd=-100, filename=\"/nonexistent\", flags=0x0" (values sanitized: strings come from traced processes).</summary>
    public static string Join(IEnumerable<ProbeValue> args) => string.Join(", ", args.Select(Value));

    public static string Value(ProbeValue v) =>
        v.Members is { } m ? $"{v.Name}={TextSafety.Sanitize(v.Text)} {{{string.Join(", ", m.Select(x => $"{x.Name}={TextSafety.Sanitize(x.Text)}"))}}}"
            : $"{v.Name}={TextSafety.Sanitize(v.Text)}";

    /// <summary>{"name": …, "value": …, "members": [ … ]} (members only for structs).</summary>
    public static void Write(Utf8JsonWriter j, ProbeValue v)
    {
        j.WriteStartObject();
        j.WriteString("name", v.Name);
        j.WriteString("value", v.Text);
        if (v.Members is { } m)
        {
            j.WriteStartArray("members");
            foreach (var x in m) Write(j, x);
            j.WriteEndArray();
        }
        j.WriteEndObject();
    }

    /// <summary>An array of arguments, or null.</summary>
    public static void WriteList(Utf8JsonWriter j, IReadOnlyList<ProbeValue>? args)
    {
        if (args == null)
        {
            j.WriteNullValue();
            return;
        }
        j.WriteStartArray();
        foreach (var a in args) Write(j, a);
        j.WriteEndArray();
    }
}
