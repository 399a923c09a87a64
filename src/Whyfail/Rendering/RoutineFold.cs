using System.Globalization;
using Whyfail.Decoding;
using Whyfail.Events;

namespace Whyfail.Rendering;

/// <summary>
/// Counts routine failures between two lines shown and says them in one line:
/// "… 31 routine failures: 26 ENOENT in searches, 3 ENOTTY in terminal probes (--routine shows them)".
/// </summary>
public sealed class RoutineFold
{
    private readonly Dictionary<(string Errno, string Label), int> _counts = [];
    private int _total;

    public void Add(SyscallEvent ev, Routine r)
    {
        var key = (Errno.Name(ev.Errno) ?? ev.Errno.ToString(CultureInfo.InvariantCulture), r.Label);
        _counts[key] = _counts.GetValueOrDefault(key) + 1;
        _total++;
    }

    /// <summary>The line for what was counted (then starts again), or null when nothing was.</summary>
    public string? Take()
    {
        if (_total == 0) return null;
        var parts = _counts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key.Errno, StringComparer.Ordinal)
            .Select(kv => $"{kv.Value} {kv.Key.Errno} in {kv.Key.Label}");
        string line = $"… {_total} routine failure{(_total == 1 ? "" : "s")}: {string.Join(", ", parts)} (--routine shows them)";
        _counts.Clear();
        _total = 0;
        return line;
    }
}
