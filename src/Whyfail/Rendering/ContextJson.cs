using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Whyfail.Events;

namespace Whyfail.Rendering;

/// <summary>The "context" object of a JSON event: the task's state captured at the failure (see docs/json.md).</summary>
internal static class ContextJson
{
    /// <summary>
    /// The last context written and its JSON (on this thread). A process's failures mostly carry equal contexts (the
    /// parser shares their limits, groups and files), and the object is the largest part of an event's line: an equal
    /// one is written as the bytes made for the first, not field by field again.
    /// </summary>
    [ThreadStatic] private static (FailureContext Context, byte[] Json, JavaScriptEncoder? Encoder)? t_last;

    public static void Write(Utf8JsonWriter w, FailureContext c)
    {
        w.WritePropertyName("context");
        if (t_last is { } last && last.Encoder == w.Options.Encoder && (ReferenceEquals(last.Context, c) || last.Context.Equals(c)))
        {
            w.WriteRawValue(last.Json, skipInputValidation: true);
            return;
        }
        var buffer = new ArrayBufferWriter<byte>(2048);
        using (var cw = new Utf8JsonWriter(buffer, w.Options)) WriteObject(cw, c);
        var json = buffer.WrittenSpan.ToArray();
        t_last = (c, json, w.Options.Encoder);
        w.WriteRawValue(json, skipInputValidation: true);
    }

    private static void WriteObject(Utf8JsonWriter w, FailureContext c)
    {
        w.WriteStartObject();
        Ids(w, "uids", c.Uid, c.Euid, c.Suid, c.Fsuid);
        Ids(w, "gids", c.Gid, c.Egid, c.Sgid, c.Fsgid);
        w.WriteNumber("ngroups", c.GroupCount);
        w.WriteStartArray("groups");
        foreach (var g in c.Groups) w.WriteNumberValue(g);
        w.WriteEndArray();
        w.WriteString("cap_effective", $"{c.CapEffective:x16}");
        w.WriteString("cap_permitted", $"{c.CapPermitted:x16}");
        w.WriteNumber("securebits", c.Securebits);
        w.WriteBoolean("no_new_privs", c.NoNewPrivs);
        w.WriteNumber("seccomp_mode", c.SeccompMode);
        w.WriteNumber("seccomp_filters", c.SeccompFilters);
        if (c.Seccomp is { } sc) w.WriteNumber("seccomp_programs", sc.Programs.Count(p => p != null)); else w.WriteNull("seccomp_programs");
        w.WriteString("umask", Convert.ToString(c.Umask, 8).PadLeft(4, '0'));
        if (c.OpenFds is { } n) w.WriteNumber("open_fds", n); else w.WriteNull("open_fds");
        w.WriteNumber("max_fds", c.MaxFds);
        w.WriteStartObject("limits");
        foreach (var (name, (soft, hard)) in c.Limits)
        {
            w.WriteStartObject(name);
            if (soft is { } s) w.WriteNumber("soft", s); else w.WriteNull("soft");
            if (hard is { } h) w.WriteNumber("hard", h); else w.WriteNull("hard");
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.WriteStartObject("signals");
        foreach (var sig in FailureContext.SignalsKnown)
            w.WriteString(sig switch { 13 => "SIGPIPE", 17 => "SIGCHLD", _ => "SIGXFSZ" }, c.Disposition(sig));
        w.WriteEndObject();
        w.WriteString("blocked", $"{c.SignalsBlocked:x16}");
        if (c.NetNs != 0) w.WriteNumber("net_ns", c.NetNs); else w.WriteNull("net_ns");
        if (c.Cwd is { } cwd) File(w, "cwd", cwd); else w.WriteNull("cwd");
        if (c.Root is { } root) File(w, "root", root); else w.WriteNull("root");
        w.WriteStartArray("files");
        foreach (var f in c.Files) File(w, null, f);
        w.WriteEndArray();
        if (c.Writers.Count > 0)
        {
            w.WriteStartArray("writers");
            foreach (var f in c.Writers) File(w, null, f);
            w.WriteEndArray();
        }
        if (c.Exec is { } x)
        {
            w.WriteStartObject("exec_args");
            w.WriteNumber("argv_strings", x.ArgStrings);
            w.WriteNumber("argv_bytes", x.ArgBytes);
            w.WriteNumber("envp_strings", x.EnvStrings);
            w.WriteNumber("envp_bytes", x.EnvBytes);
            w.WriteNumber("longest", x.Longest);
            w.WriteString("longest_in", x.LongestInEnv ? "envp" : "argv");
            w.WriteNumber("longest_index", x.LongestIndex);
            w.WriteBoolean("complete", x.Complete);
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }

    private static void Ids(Utf8JsonWriter w, string name, uint real, uint effective, uint saved, uint fs)
    {
        w.WriteStartArray(name);
        w.WriteNumberValue(real);
        w.WriteNumberValue(effective);
        w.WriteNumberValue(saved);
        w.WriteNumberValue(fs);
        w.WriteEndArray();
    }

    private static void File(Utf8JsonWriter w, string? name, ContextFile f)
    {
        if (name is null) w.WriteStartObject(); else w.WriteStartObject(name);
        w.WriteNumber("fd", f.Fd);
        if (f.Arg is >= 0 and < 6) w.WriteNumber("arg", f.Arg);
        w.WriteBoolean("open", f.Open);
        if (f.Open)
        {
            if (f.Target is { } t) w.WriteString("target", t); else w.WriteNull("target");
            w.WriteString("mode", Convert.ToString(f.Mode, 8).PadLeft(6, '0'));
            w.WriteString("flags", Convert.ToString(f.OpenFlags, 8));
            w.WriteNumber("ino", f.Inode);
            w.WriteString("dev", $"{f.DevMajor}:{f.DevMinor}");
            w.WriteNumber("mnt_id", f.MountId);
            w.WriteString("fs_type", f.FsType);
            w.WriteNumber("pos", f.Position);
            w.WriteBoolean("deleted", f.Deleted);
            w.WriteBoolean("truncated", f.Truncated);
            w.WriteBoolean("unreachable", f.Unreachable);
        }
        w.WriteEndObject();
    }
}
