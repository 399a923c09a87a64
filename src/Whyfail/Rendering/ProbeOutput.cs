using System.Globalization;
using System.Text;
using Whyfail.Events;

namespace Whyfail.Rendering;

/// <summary>Where `whyfail probe` writes: matching calls, notices, the statistics at exit.</summary>
public interface IProbeOutput : IDisposable
{
    void Notice(string text);
    void Call(ProbeCall call);
    void Stats(ProbeStats stats);
    void Flush();
}

/// <summary>
/// Text, in the manner of whythefail.stp: the call with its return value (and its arguments with --args),
/// then each source line it executed, in order, with the locals visible there (<c>?</c> where the debug
/// info has no location for them at that line).
/// </summary>
public sealed class ProbeText(TextWriter w, bool showArgs) : IProbeOutput
{
    public void Notice(string text) => w.WriteLine("whyfail: " + TextSafety.Sanitize(text));

    public void Call(ProbeCall c)
    {
        string args = showArgs ? ArgumentText.Join(c.Args) : "";
        w.WriteLine($"{TextSafety.Sanitize(c.Comm)}[{c.Tid}] {c.Function}({args}) = {c.ReturnText}");
        foreach (var l in c.Lines)
            w.WriteLine($"    {l.File}:{l.Line}  {string.Join(' ', l.Locals.Select(v => $"{v.Name}={v.Text}"))}".TrimEnd());
    }

    public void Stats(ProbeStats s)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"whyfail: probe statistics ({string.Join(", ", s.Functions)}{(string.IsNullOrEmpty(s.Condition) ? "" : $", when {s.Condition}")}): ");
        sb.Append(CultureInfo.InvariantCulture, $"entries {s.Entries}, exits matching {s.ExitsMatching}, exits not matching {s.ExitsNotMatching}, ");
        sb.Append(CultureInfo.InvariantCulture, $"lines seen {s.LinesSeen}, lines probed {s.LinesProbed}, lines that could not be probed {s.LinesNotProbed}");
        if (s.Lost > 0) sb.Append(CultureInfo.InvariantCulture, $", {s.Lost} records lost (ring buffer full)");
        w.WriteLine(sb.ToString());
    }

    public void Flush() => w.Flush();

    public void Dispose() => w.Flush();
}

/// <summary>JSON Lines: one "probe_call" object per matching call, "notice" lines, one "probe_stats" object at exit (docs/json.md).</summary>
public sealed class ProbeJson(Stream output, bool showArgs) : IProbeOutput
{
    private readonly JsonLines _out = new(output);

    public void Notice(string text) => _out.Notice(text);

    public void Call(ProbeCall c)
    {
        var j = _out.Writer;
        j.WriteStartObject();
        j.WriteString("type", "probe_call");
        j.WriteString("function", c.Function);
        j.WriteNumber("pid", c.Pid);
        j.WriteNumber("tid", c.Tid);
        j.WriteString("comm", c.Comm);
        j.WriteNumber("return", c.Return);
        j.WriteString("return_text", c.ReturnText);
        j.WriteNumber("duration_ns", c.DurationNs);
        if (showArgs)
        {
            j.WriteStartArray("args");
            foreach (var a in c.Args) ArgumentText.Write(j, a);
            j.WriteEndArray();
        }
        j.WriteStartArray("lines");
        foreach (var l in c.Lines)
        {
            j.WriteStartObject();
            j.WriteString("file", l.File);
            j.WriteNumber("line", l.Line);
            j.WriteString("address", $"0x{l.Address:x}");
            j.WriteStartObject("locals");
            foreach (var v in l.Locals) j.WriteString(v.Name, v.Text);
            j.WriteEndObject();
            j.WriteEndObject();
        }
        j.WriteEndArray();
        j.WriteEndObject();
        _out.EndLine();
    }

    public void Stats(ProbeStats s)
    {
        var j = _out.Writer;
        j.WriteStartObject();
        j.WriteString("type", "probe_stats");
        j.WriteStartArray("functions");
        foreach (var f in s.Functions) j.WriteStringValue(f);
        j.WriteEndArray();
        if (!string.IsNullOrEmpty(s.Condition)) j.WriteString("condition", s.Condition);
        j.WriteNumber("entries", s.Entries);
        j.WriteNumber("exits_matching", s.ExitsMatching);
        j.WriteNumber("exits_not_matching", s.ExitsNotMatching);
        j.WriteNumber("lines_seen", s.LinesSeen);
        j.WriteNumber("lines_probed", s.LinesProbed);
        j.WriteNumber("lines_not_probed", s.LinesNotProbed);
        j.WriteNumber("lost", s.Lost);
        j.WriteEndObject();
        _out.EndLine();
    }

    public void Flush() => _out.Flush();

    public void Dispose() => _out.Flush();
}
