using Whyfail.Decoding;

namespace Whyfail.Tracing;

/// <summary>
/// The line a session without a command prints once everything is attached: what it watches (which
/// processes, which calls and errors), where the report goes, the metrics endpoint and what SIGHUP does —
/// so that an unattended service's log says at its top what it is doing.
/// </summary>
public static class StartLine
{
    public static string For(TraceSettings s, Metrics.MetricsEndpoint? metrics)
    {
        var parts = new List<string>();
        string who = s.System ? "every process on this machine" : $"pid {string.Join(", ", s.Pids)}{(s.Follow ? " and the children they create from now on" : "")}";
        if (s.Comms is { Count: > 0 } comms) parts.Add($"only processes named {string.Join(", ", comms.Order(StringComparer.Ordinal))}");
        parts.Add(s.All ? "every call, failed or not" : "failing calls");
        if (s.Syscalls is { Count: > 0 } sys) parts.Add($"syscalls {Shorten(sys.Order().Select(SyscallTable.DisplayName))}");
        if (s.Errnos is { Count: > 0 } errs) parts.Add($"errors {Shorten(errs.Order().Select(e => Errno.Name(e) ?? e.ToString()))}");
        if (s.OutputFile != null) parts.Add($"report to {TextSafetyName(s.OutputFile)}{(s.Command.Count == 0 ? " (SIGHUP reopens it)" : "")}");
        if (metrics != null) parts.Add($"metrics on http://{metrics}/metrics");
        return $"tracing {who}: {string.Join("; ", parts)}";
    }

    private static string TextSafetyName(string path) => Rendering.TextSafety.Sanitize(path);

    private static string Shorten(IEnumerable<string> names)
    {
        var list = names.ToList();
        return list.Count <= 12 ? string.Join(",", list) : $"{string.Join(",", list.Take(12))} and {list.Count - 12} more";
    }
}
