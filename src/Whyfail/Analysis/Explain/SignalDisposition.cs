using System.Globalization;

namespace Whyfail.Analysis.Explain;

/// <summary>What a process does with a signal, from SigBlk/SigIgn/SigCgt in /proc/PID/status (read while it runs).</summary>
internal static class SignalDisposition
{
    /// <summary>"ignores", "blocks", "handles", "takes the default action on", or null when unreadable.</summary>
    public static string? Of(ProcessView proc, int sig)
    {
        if (proc.Context?.Disposition(sig) is { } then) return then;
        if (!proc.Alive)
        {
            proc.NoteLost($"its disposition of signal {sig}");
            return null;
        }
        if (ProcFs.Read($"{proc.TaskDir}/status") is not { } status) return null;
        bool Bit(string key)
        {
            foreach (var line in status.Split('\n'))
                if (line.StartsWith(key, StringComparison.Ordinal) &&
                    ulong.TryParse(line[key.Length..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var mask))
                    return ((mask >> (sig - 1)) & 1) != 0;
            return false;
        }
        return Bit("SigIgn:") ? "ignores" : Bit("SigBlk:") ? "blocks" : Bit("SigCgt:") ? "handles" : "takes the default action on";
    }
}
