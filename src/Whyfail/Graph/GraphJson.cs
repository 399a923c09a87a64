using System.Text.Json;
using Whyfail.Decoding;
using Whyfail.Rendering;

namespace Whyfail.Graph;

/// <summary>
/// JSON Lines for call graphs (docs/json.md, "type": "graph" and "graph_summary"): the whole tree,
/// unfolded (folding is for people). <see cref="Read"/> loads a recording back, so a graph recorded
/// on one machine can be viewed (text, HTML) on another.
/// </summary>
public sealed class GraphJsonWriter(Stream output)
{
    private readonly JsonLines _lines = new(output);
    private Utf8JsonWriter _w => _lines.Writer;

    private void EndLine() => _lines.EndLine();

    public void Notice(string text) => _lines.Notice(text);

    public void Invocation(Invocation inv, string recorder)
    {
        var w = _w;
        w.WriteStartObject();
        w.WriteString("type", "graph");
        if (inv.ExitTimestampNs is { } ts) w.WriteNumber("ts_ns", ts);
        w.WriteNumber("pid", inv.Pid);
        w.WriteNumber("tid", inv.Tid);
        w.WriteString("comm", inv.Comm);
        w.WriteString("syscall", inv.Syscall);
        w.WriteNumber("nr", inv.Nr);
        JsonLines.WriteStrings(w, "args", inv.Args);
        w.WriteNumber("ret", inv.Ret ?? 0);
        int errno = inv.Failed ? (int)-inv.Ret!.Value : 0;
        if (errno != 0)
        {
            w.WriteString("errno", Errno.Name(errno));
            w.WriteNumber("errno_nr", errno);
        }
        else
            w.WriteNull("errno");
        w.WriteString("recorder", recorder);
        w.WriteStartObject("error_path");
        w.WriteString("source", inv.ErrorPathSource);
        JsonLines.WriteStrings(w, "functions", ErrorPath.Nodes(inv).Select(n => n.Name));
        w.WriteEndObject();
        if (inv.Origin is { } o)
        {
            w.WriteStartObject("origin");
            w.WriteString("function", o.Function);
            JsonLines.WriteStrings(w, "chain", o.Chain);
            w.WriteString("backend", o.Backend);
            w.WriteString("confidence", o.Confidence);
            w.WriteEndObject();
        }
        else
            w.WriteNull("origin");
        w.WritePropertyName("tree");
        Node(inv.Root);
        if (inv.Diff is { } d)
        {
            w.WriteStartObject("diff");
            w.WriteNumber("success_tid", d.SuccessTid);
            w.WriteNumber("success_ret", d.SuccessRet);
            JsonLines.WriteStrings(w, "path", d.Path);
            w.WriteString("parts_in", d.Parent);
            w.WriteString("last_common", d.LastCommon);
            w.WriteString("failing_next", d.FailingNext);
            w.WriteString("success_next", d.SuccessNext);
            JsonLines.WriteStrings(w, "never_reached", d.NeverReached);
            w.WriteNumber("never_reached_total", d.NeverReachedTotal);
            w.WriteString("text", d.Sentence());
            w.WriteEndObject();
        }
        else
            w.WriteNull("diff");
        w.WriteEndObject();
        EndLine();
    }

    private void Node(CallNode n)
    {
        var w = _w;
        w.WriteStartObject();
        w.WriteString("function", n.Name);
        if (n.DurationUs is { } d) w.WriteNumber("duration_us", d);
        else w.WriteNull("duration_us");
        if (n.Ret is { } r) w.WriteNumber("ret", r);
        if (n.OnErrorPath) w.WriteBoolean("error_path", true);
        if (n.Args is { } args)
        {
            w.WritePropertyName("args");
            Rendering.ArgumentText.WriteList(w, args);
        }
        if (n.Divergence) w.WriteBoolean("parts", true);
        if (n.Children.Count > 0)
        {
            w.WriteStartArray("calls");
            foreach (var c in n.Children) Node(c);
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    public void Summary(GraphSummary s)
    {
        var w = _w;
        w.WriteStartObject();
        w.WriteString("type", "graph_summary");
        w.WriteNumber("recorded", s.Recorded);
        w.WriteNumber("failing", s.Failing);
        w.WriteNumber("shown", s.Shown);
        w.WriteNumber("successful_discarded", s.SuccessfulDiscarded);
        w.WriteNumber("unmatched", s.Unmatched);
        w.WriteNumber("lost_events", s.LostEvents);
        w.WriteNumber("probe_calls_removed", s.ProbeCallsRemoved);
        w.WriteEndObject();
        EndLine();
    }

    /// <summary>Loads the graphs of a recording (other lines are skipped).</summary>
    public static List<Invocation> Read(string path)
    {
        var list = new List<Invocation>();
        int lineNo = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                using var doc = JsonDocument.Parse(line, new JsonDocumentOptions { MaxDepth = 2048 });
                var e = doc.RootElement;
                if (e.GetProperty("type").GetString() != "graph") continue;
                var inv = new Invocation
                {
                    Tid = e.GetProperty("tid").GetInt32(),
                    Pid = e.GetProperty("pid").GetInt32(),
                    Comm = e.GetProperty("comm").GetString() ?? "",
                    Syscall = e.GetProperty("syscall").GetString() ?? "",
                    Nr = e.GetProperty("nr").GetInt32(),
                    Ret = e.GetProperty("ret").GetInt64(),
                    Args = Strings(e.GetProperty("args")),
                    Root = ReadNode(e.GetProperty("tree")),
                    ErrorPathSource = e.GetProperty("error_path").GetProperty("source").GetString() ?? "",
                };
                if (e.TryGetProperty("ts_ns", out var ts)) inv.ExitTimestampNs = ts.GetUInt64();
                if (e.GetProperty("origin") is { ValueKind: JsonValueKind.Object } o)
                    inv.Origin = new Events.Origin
                    {
                        Function = o.GetProperty("function").GetString() ?? "",
                        Chain = Strings(o.GetProperty("chain")),
                        Backend = o.GetProperty("backend").GetString() ?? "",
                        Confidence = o.GetProperty("confidence").GetString() ?? "",
                    };
                if (e.GetProperty("diff") is { ValueKind: JsonValueKind.Object } d)
                    inv.Diff = new DiffResult
                    {
                        SuccessTid = d.GetProperty("success_tid").GetInt32(),
                        SuccessRet = d.GetProperty("success_ret").GetInt64(),
                        Path = Strings(d.GetProperty("path")),
                        LastCommon = d.GetProperty("last_common").GetString(),
                        FailingNext = d.GetProperty("failing_next").GetString(),
                        SuccessNext = d.GetProperty("success_next").GetString(),
                        NeverReached = Strings(d.GetProperty("never_reached")),
                        NeverReachedTotal = d.GetProperty("never_reached_total").GetInt32(),
                    };
                list.Add(inv);
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                throw new WhyfailException($"{path}:{lineNo}: not a whyfail graph recording ({ex.Message})", ExitCodes.Usage);
            }
        }
        return list;
    }

    private static List<string> Strings(JsonElement array) => array.EnumerateArray().Select(c => c.GetString() ?? "").ToList();

    private static Events.ProbeValue ReadValue(JsonElement e) =>
        new(e.GetProperty("name").GetString() ?? "", e.GetProperty("value").GetString() ?? "",
            e.TryGetProperty("members", out var m) ? m.EnumerateArray().Select(ReadValue).ToList() : null);

    private static CallNode ReadNode(JsonElement e)
    {
        var n = new CallNode(e.GetProperty("function").GetString() ?? "")
        {
            DurationUs = e.GetProperty("duration_us") is { ValueKind: JsonValueKind.Number } d ? d.GetDouble() : null,
            Ret = e.TryGetProperty("ret", out var r) ? r.GetInt64() : null,
            OnErrorPath = e.TryGetProperty("error_path", out var p) && p.GetBoolean(),
            Divergence = e.TryGetProperty("parts", out var v) && v.GetBoolean(),
            Args = e.TryGetProperty("args", out var a) && a.ValueKind == JsonValueKind.Array ? a.EnumerateArray().Select(ReadValue).ToList() : null,
        };
        if (e.TryGetProperty("calls", out var calls))
            foreach (var c in calls.EnumerateArray()) n.Children.Add(ReadNode(c));
        return n;
    }
}

/// <summary>Counts for the end of a graph session: nothing recorded is dropped without a number.</summary>
public sealed class GraphSummary
{
    public int Recorded { get; set; }
    public int Failing { get; set; }
    public int Shown { get; set; }
    public int SuccessfulDiscarded { get; set; }
    public int Unmatched { get; set; }
    public long LostEvents { get; set; }
    /// <summary>Calls of whyfail's own BPF programs removed from the trees (<see cref="ProbeNoise"/>).</summary>
    public int ProbeCallsRemoved { get; set; }
}
