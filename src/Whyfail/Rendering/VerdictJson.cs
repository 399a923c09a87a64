using System.Text.Json;
using Whyfail.Decoding;
using Whyfail.Events;

namespace Whyfail.Rendering;

/// <summary>The verdict's JSON: the fields it adds to a syscall object, and the "verdict" object (docs/json.md).</summary>
public static class VerdictJson
{
    /// <summary>"routine", "consequence", "error_as_data", "followup" on a syscall object.</summary>
    public static void WriteEventFields(Utf8JsonWriter w, SyscallEvent ev)
    {
        if (ev.Failed)
        {
            if (ev.Routine is { } r)
            {
                w.WriteStartObject("routine");
                w.WriteString("kind", r.Kind);
                w.WriteString("label", r.Label);
                w.WriteString("reason", r.Reason);
                w.WriteEndObject();
            }
            else
                w.WriteNull("routine");
            w.WriteBoolean("error_as_data", ev.ErrorAsData);
            if (ev.Uring is { } u)
            {
                w.WriteStartObject("uring");
                w.WriteString("opcode", Decoding.UringText.OpName(u.Opcode));
                w.WriteNumber("user_data", u.UserData);
                w.WriteEndObject();
            }
        }
        if (ev.FollowUp) w.WriteBoolean("followup", true);
        if (ev.Consequence is { } c) WriteConsequence(w, c);
    }

    private static void WriteConsequence(Utf8JsonWriter w, Consequence c)
    {
        w.WriteStartObject("consequence");
        if (c.Message is null) w.WriteNull("message"); else w.WriteString("message", c.Message);
        if (c.Message is null) w.WriteNull("message_by"); else w.WriteString("message_by", c.MessageBy);
        w.WriteNumber("message_delay_ns", c.MessageDelayNs);
        if (c.Exit is { } e) w.WriteNumber("exit", e); else w.WriteNull("exit");
        WriteSignal(w, c.Signal);
        w.WriteEndObject();
    }

    /// <summary>"exit_status" (null when killed) and "signal" of a process's end.</summary>
    private static void WriteEnd(Utf8JsonWriter w, int? exitStatus, int signal)
    {
        if (exitStatus is { } st) w.WriteNumber("exit_status", st); else w.WriteNull("exit_status");
        WriteSignal(w, signal);
    }

    /// <summary>"signal": its name (the number when unnamed), null for none.</summary>
    private static void WriteSignal(Utf8JsonWriter w, int signal)
    {
        if (signal != 0) w.WriteString("signal", Signals.Name(signal) ?? signal.ToString()); else w.WriteNull("signal");
    }

    /// <summary>"via": the children that passed a descendant's failure up to the verdict's process, innermost first.</summary>
    private static void WriteVia(Utf8JsonWriter w, IReadOnlyList<ChildEnd> via)
    {
        w.WriteStartArray("via");
        foreach (var e in via)
        {
            w.WriteStartObject();
            w.WriteNumber("pid", e.Pid);
            w.WriteString("comm", e.Comm);
            WriteEnd(w, e.ExitStatus, e.Signal);
            w.WriteNumber("reaped_by_pid", e.ParentPid);
            w.WriteString("reaped_by_comm", e.ParentComm);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    public static void Write(Utf8JsonWriter w, VerdictReport v)
    {
        w.WriteStartObject();
        w.WriteString("type", "verdict");
        w.WriteNumber("pid", v.Pid);
        w.WriteString("comm", v.Comm);
        WriteEnd(w, v.ExitStatus, v.Signal);
        w.WriteBoolean("core_dumped", v.CoreDumped);
        w.WriteNumber("routine", v.Routine);
        w.WriteNumber("not_routine", v.NotRoutine);
        w.WriteStartArray("culprits");
        for (int i = 0; i < v.Culprits.Count; i++)
        {
            var c = v.Culprits[i];
            w.WriteStartObject();
            w.WriteNumber("pid", c.Pid);
            w.WriteNumber("tid", c.Tid);
            w.WriteString("comm", c.Comm);
            w.WriteNumber("ts_ns", c.TimestampNs);
            w.WriteString("syscall", c.Syscall);
            JsonLines.WriteStrings(w, "args", c.DecodedArgs);
            w.WriteString("errno", Errno.Name(c.Errno) ?? c.Errno.ToString());
            if (c.Consequence?.Message is { } m) w.WriteString("message", m); else w.WriteNull("message");
            if (c.Explanation.FirstOrDefault(x => x.Rule != "process.gone") is { } why) w.WriteString("why", why.Text); else w.WriteNull("why");
            WriteVia(w, i < v.Via.Count ? v.Via[i] : []);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }
}
