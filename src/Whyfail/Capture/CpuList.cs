using System.Globalization;

namespace Whyfail.Capture;

/// <summary>The kernel's CPU list notation ("0-3,8,10-11").</summary>
internal static class CpuList
{
    public static bool Contains(string list, uint cpu) => Ranges(list).Any(r => cpu >= r.Lo && cpu <= r.Hi);

    /// <summary>How many CPUs a list up to its highest one spans (nr_cpu_ids for /sys/devices/system/cpu/possible), or null.</summary>
    public static int? Count(string? list) => list is null || !Ranges(list).Any() ? null : (int)Ranges(list).Max(r => r.Hi) + 1;

    private static IEnumerable<(uint Lo, uint Hi)> Ranges(string list)
    {
        foreach (var part in list.Trim().Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var ends = part.Split('-');
            if (!uint.TryParse(ends[0], NumberStyles.None, CultureInfo.InvariantCulture, out var lo)) continue;
            uint hi = lo;
            if (ends.Length > 1 && !uint.TryParse(ends[1], NumberStyles.None, CultureInfo.InvariantCulture, out hi)) continue;
            yield return (lo, hi);
        }
    }
}
