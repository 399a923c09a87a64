using System.Text.Json;
using Whyfail.Decoding;
using Whyfail.Events;

namespace Whyfail.Rendering;

/// <summary>JSON Lines, one object per event, schema in docs/json.md (a contract: extend, never rename).</summary>
public sealed class JsonRenderer : IRenderer
{
    private readonly Stream _out;
    private readonly JsonLines _lines;
    private readonly Utf8JsonWriter _w;

    /// <summary>Names origin records and kernel addresses, when the session has them (see <see cref="IRenderer.UseKernelNames"/>).</summary>
    private IKernelNames? _names;

    public void UseKernelNames(IKernelNames names) => _names = names;

    public JsonRenderer(Stream output)
    {
        _out = output;
        _lines = new JsonLines(output, buffered: true);
        _w = _lines.Writer;
    }

    private void EndLine() => _lines.EndLine();

    public void Flush() => _lines.Flush();

    public void Notice(string text) => _lines.Notice(text);

    /// <summary>The names every syscall line has, encoded once (a flood writes them hundreds of thousands of times).</summary>
    private static class Names
    {
        private static JsonEncodedText E(string s) => JsonEncodedText.Encode(s, JsonEscaping.Instance);
        public static readonly JsonEncodedText Type = E("type"), Syscall = E("syscall"), TsNs = E("ts_ns"), Pid = E("pid"), Tid = E("tid"),
            Comm = E("comm"), Uid = E("uid"), Euid = E("euid"), Nr = E("nr"), Args = E("args"), RawArgs = E("raw_args"), Ret = E("ret"),
            CaptureTruncated = E("capture_truncated"), EvidenceLost = E("evidence_lost"), Evidence = E("evidence"),
            Errno = E("errno"), ErrnoNr = E("errno_nr"), ErrnoText = E("errno_text"), Internal = E("internal");
    }

    /// <summary>The last event's line after "tid", for a repeat of it (<see cref="RepeatedLine"/>).</summary>
    private readonly RepeatedLine _repeated = new();

    /// <summary>Lines written as a repeat of the one before (tests, bench).</summary>
    internal long RepeatedLines => _repeated.Repeats;

    public void Event(SyscallEvent ev)
    {
        if (_repeated.Matches(ev))
        {
            _repeated.Write(_lines.Raw, ev);
            EndLine();
            return;
        }
        var w = _w;
        w.WriteStartObject();
        w.WriteString(Names.Type, Names.Syscall);
        w.WriteNumber(Names.TsNs, ev.TimestampNs);
        w.WriteNumber(Names.Pid, ev.Pid);
        w.WriteNumber(Names.Tid, ev.Tid);
        int tail = _lines.Mark();
        w.WriteString(Names.Comm, ev.Comm);
        w.WriteNumber(Names.Uid, ev.Uid);
        w.WriteNumber(Names.Euid, ev.Euid);
        w.WriteString(Names.Syscall, ev.Syscall);
        w.WriteNumber(Names.Nr, ev.Nr);
        w.WritePropertyName(Names.Args);
        w.WriteRawValue(ArgsJson(ev.DecodedArgs, w.Options), skipInputValidation: true);
        w.WriteStartArray(Names.RawArgs);
        foreach (var a in ev.Args) w.WriteNumberValue(a);
        w.WriteEndArray();
        w.WriteNumber(Names.Ret, ev.ErrorAsData ? 0 : ev.Ret);
        WriteErrno(w, ev);
        w.WriteBoolean(Names.CaptureTruncated, ev.CaptureTruncated);
        w.WriteBoolean(Names.EvidenceLost, ev.EvidenceLost);
        w.WriteStartArray(Names.Evidence);
        if (ev.HasEvidence) foreach (var e in ev.Evidence) EvidenceJson.Write(w, e);
        w.WriteEndArray();
        if (ev.Context is { } context) ContextJson.Write(w, context);
        WriteExplanation(w, ev);
        WriteOrigin(w, ev.Origin);
        if (ev.OriginMissed is { } missed) w.WriteString("origin_missed", missed);
        WriteOriginRecords(w, ev.OriginRecords);
        w.WriteBoolean("injected", ev.Injected);
        DenyJson.Write(w, ev.DeniedBy);
        VerdictJson.WriteEventFields(w, ev);
        CgroupJson.Write(w, ev);
        w.WriteEndObject();
        _repeated.Keep(ev, _lines.Since(tail));
        EndLine();
    }

    /// <summary>The decoded arguments last written and their JSON array: a repeated call shares the same list (decoding reuses it).</summary>
    private IReadOnlyList<string>? _argsOf;
    private byte[] _argsJson = [];

    private byte[] ArgsJson(IReadOnlyList<string> args, JsonWriterOptions options)
    {
        if (ReferenceEquals(args, _argsOf)) return _argsJson;
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var aw = new Utf8JsonWriter(buffer, options))
        {
            aw.WriteStartArray();
            foreach (var a in args) aw.WriteStringValue(a);
            aw.WriteEndArray();
        }
        (_argsOf, _argsJson) = (args, buffer.WrittenSpan.ToArray());
        return _argsJson;
    }

    /// <summary>errno, errno_nr, errno_text, internal; kernel_ret/kernel_errno when the kernel's value differs (docs/json.md).</summary>
    private static void WriteErrno(Utf8JsonWriter w, SyscallEvent ev)
    {
        if (ev.Failed)
        {
            int e = ev.Errno;
            w.WriteString(Names.Errno, Errno.Name(e) ?? e.ToString());
            w.WriteNumber(Names.ErrnoNr, e);
            w.WriteString(Names.ErrnoText, Errno.Message(e));
            w.WriteBoolean(Names.Internal, Errno.IsInternal(e));
            if (ev.KernelRet != ev.Ret && !ev.ErrorAsData)
            {
                w.WriteNumber("kernel_ret", ev.KernelRet);
                w.WriteString("kernel_errno", Errno.Name(ev.KernelErrno) ?? ev.KernelErrno.ToString());
            }
        }
        else
        {
            w.WriteNull("errno");
            w.WriteNull("errno_text");
            w.WriteBoolean("internal", false);
        }
    }

    /// <summary>The explanation rules' sentences, one object each.</summary>
    private static void WriteExplanation(Utf8JsonWriter w, SyscallEvent ev)
    {
        w.WriteStartArray("explanation");
        if (ev.HasExplanation) foreach (var x in ev.Explanation)
        {
            w.WriteStartObject();
            w.WriteString("rule", x.Rule);
            w.WriteString("text", x.Text);
            if (x.Fix is null) w.WriteNull("fix"); else w.WriteString("fix", x.Fix);
            w.WriteBoolean("certain", x.Certain);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    /// <summary>Where in the kernel the error was born, or null.</summary>
    private static void WriteOrigin(Utf8JsonWriter w, Origin? origin)
    {
        if (origin is not { } o)
        {
            w.WriteNull("origin");
            return;
        }
        w.WriteStartObject("origin");
        w.WriteString("function", o.Function);
        w.WriteNumber("offset", o.Offset);
        WriteStrings(w, "chain", o.Chain);
        WriteStrings(w, "errno_changes", o.ErrnoChanges);
        WriteStrings(w, "stack", o.Stack);
        WriteStrings(w, "inner", o.Inner);
        w.WriteStartArray("chain_watched");
        foreach (var t in o.ChainWatched) w.WriteBooleanValue(t);
        w.WriteEndArray();
        if (o.ChainArgs.Count > 0)
        {
            // --args: parallel to chain; null where a function's arguments were not recorded.
            w.WriteStartArray("chain_args");
            for (int i = 0; i < o.Chain.Count; i++) ArgumentText.WriteList(w, i < o.ChainArgs.Count ? o.ChainArgs[i] : null);
            w.WriteEndArray();
        }
        w.WriteBoolean("inferred", o.Inferred);
        w.WriteString("backend", o.Backend);
        w.WriteString("confidence", o.Confidence);
        w.WriteBoolean("deeper", o.Deeper);
        if (o.DeeperWhy is null) w.WriteNull("deeper_why"); else w.WriteString("deeper_why", o.DeeperWhy);
        w.WriteString("found_by", o.FoundBy);
        if (o.ZoomedBy is { } zoomedBy) w.WriteString("zoomed_by", zoomedBy);
        w.WriteString("kind", o.Kind);
        if (o.Cause is { } cause) w.WriteString("cause", cause);
        if (o.Module is { } module) w.WriteString("module", module);
        if (o.Hook is { } hook) w.WriteString("hook", hook);
        if (o.Signal is { } signal) w.WriteString("signal", signal);
        SourceJson.Write(w, o);
        w.WriteEndObject();
    }

    /// <summary>The raw error returns behind the origin (addresses or attach indexes), for tools and for checking whyfail.</summary>
    private void WriteOriginRecords(Utf8JsonWriter w, IReadOnlyList<OriginRecord> records)
    {
        if (records.Count == 0) return;
        w.WriteStartArray("origin_records");
        foreach (var r in records)
        {
            w.WriteStartObject();
            w.WriteString("function", _names?.Origin(r) ?? $"0x{r.Function:x}");
            w.WriteNumber("ret", r.Ret);
            w.WriteNumber("sp", r.StackPointer);
            w.WriteStartArray("stack");
            foreach (var a in r.Stack) w.WriteStringValue(_names?.Address(a) ?? $"0x{a:x}");
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    public void Verdict(VerdictReport v)
    {
        VerdictJson.Write(_w, v);
        EndLine();
    }

    private static void WriteStrings(Utf8JsonWriter w, string name, IEnumerable<string> values) => JsonLines.WriteStrings(w, name, values);

    public void Summary(TraceSummary s)
    {
        var w = _w;
        w.WriteStartObject();
        w.WriteString("type", "summary");
        w.WriteNumber("reported", s.Reported);
        w.WriteNumber("lost", s.Lost);
        w.WriteNumber("lost_evidence", s.LostEvidence);
        w.WriteNumber("hidden_internal", s.HiddenInternal);
        if (s.Injected is { } inj) w.WriteNumber("injected", inj);
        if (s.Deny is { } deny) DenyJson.WriteSummary(w, deny);
        w.WriteNumber("routine", s.Routine);
        w.WriteNumber("not_routine", s.NotRoutine);
        w.WriteNumber("explanations_reused", s.ExplanationsReused);
        w.WriteNumber("explanations_skipped", s.ExplanationsSkipped);
        w.WriteNumber("judged_early", s.JudgedEarly);
        w.WriteNumber("judged_at_repeat", s.JudgedAtRepeat);
        w.WriteStartArray("counts");
        foreach (var ((sys, err, comm), n) in s.Counts.OrderByDescending(kv => kv.Value))
        {
            w.WriteStartObject();
            w.WriteString("syscall", sys);
            w.WriteString("errno", err);
            w.WriteString("comm", comm);
            w.WriteNumber("count", n);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
        EndLine();
    }

    public void Dispose()
    {
        _w.Dispose();
        Flush();
    }
}
