using System.Globalization;
using System.Text;
using Whyfail.Decoding;
using Whyfail.Events;

namespace Whyfail.Rendering;

/// <summary>The words of the verdict block (text output). Messages come from traced programs: sanitised.</summary>
public static class VerdictText
{
    /// <summary>"cat (pid 12) exited with status 1: 1 failure mattered, 31 were routine".</summary>
    public static string Headline(VerdictReport v)
    {
        var sb = new StringBuilder();
        sb.Append(TextSafety.Sanitize(v.Comm)).Append(" (pid ").Append(v.Pid).Append(") ");
        if (v.Signal != 0)
            sb.Append("was killed by ").Append(Signals.Name(v.Signal) ?? $"signal {v.Signal}").Append(v.CoreDumped ? " (core dumped)" : "");
        else
            sb.Append("exited with status ").Append(v.ExitStatus ?? 0);
        long all = v.Routine + v.NotRoutine;
        if (v.Failed)
        {
            if (v.Culprits.Count == 0)
                sb.Append("; no failing call explains it").Append(all > 0 ? $" ({Count(all, "failure")}, {v.Routine} routine)" : " (no failed calls)");
            else
                sb.Append(v.Culprits.Count == 1 ? " after this failure" : $" after these {v.Culprits.Count} failures")
                  .Append(v.Routine > 0 ? $" ({v.Routine} routine {(v.Routine == 1 ? "one" : "ones")} folded)" : "").Append(':');
        }
        else
            sb.Append(all == 0 ? "; no failed calls" : $"; {Count(all, "failed call")}, {v.Routine} of them routine");
        return sb.ToString();
    }

    /// <summary>What the failure led to: the message it caused, or the exit it explains.</summary>
    public static string Consequence(SyscallEvent c, VerdictReport v)
    {
        var q = c.Consequence;
        if (q?.Message != null) return Said(c);
        string end = q is { Signal: not 0 } ? $"it was killed by {Signals.Name(q.Signal) ?? q.Signal.ToString(CultureInfo.InvariantCulture)}"
            : $"it exited with status {q?.Exit ?? v.ExitStatus ?? 0}";
        // The command's own exec failed: the process never became the program (its name is still its parent's).
        if (c.Syscall is "execve" or "execveat" && c.Pid == v.Pid && c.Comm != v.Comm)
            return $"pid {c.Pid} never became {TextSafety.Sanitize(v.Comm)}: its exec failed; then {end}";
        return $"the last failure pid {c.Pid} ({TextSafety.Sanitize(c.Comm)}) did not recover from; then {end}";
    }

    /// <summary>"cat (pid 12) exited with status 1, which sh (pid 11) learned by waiting for it": one line per step, innermost first.</summary>
    public static IEnumerable<string> Via(IReadOnlyList<ChildEnd> via) =>
        via.Select(e =>
            $"{TextSafety.Sanitize(e.Comm)} (pid {e.Pid}) " +
            (e.Signal != 0 ? $"was killed by {Signals.Name(e.Signal) ?? e.Signal.ToString(CultureInfo.InvariantCulture)}" : $"exited with status {e.ExitStatus ?? 0}") +
            $", which its parent {TextSafety.Sanitize(e.ParentComm)} (pid {e.ParentPid}) learned by waiting for it");

    /// <summary>cat printed "cat: /etc/shadow: Permission denied" 0.2 ms later.</summary>
    public static string Said(SyscallEvent c)
    {
        var q = c.Consequence!;
        string msg = q.Message!.Length > 200 ? q.Message[..200] + "…" : q.Message;
        return $"{TextSafety.Sanitize(q.MessageBy ?? c.Comm)} printed \"{TextSafety.Sanitize(msg)}\" {Delay(q.MessageDelayNs)} later";
    }

    private static string Delay(ulong ns) =>
        ns < 100_000 ? (ns / 1e6).ToString("0.00", CultureInfo.InvariantCulture) + " ms"
        : ns < 1_000_000_000 ? (ns / 1e6).ToString("0.0", CultureInfo.InvariantCulture) + " ms"
        : (ns / 1e9).ToString("0.0", CultureInfo.InvariantCulture) + " s";

    private static string Count(long n, string what) => $"{n} {what}{(n == 1 ? "" : "s")}";
}
