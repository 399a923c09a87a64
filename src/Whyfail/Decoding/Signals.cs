using System.Globalization;
using System.Text;

namespace Whyfail.Decoding;

/// <summary>
/// Signal names from the UAPI asm/signal.h (Data/xlat.tsv). Real-time signals use the kernel's
/// numbering: 32 is SIGRTMIN, 33.. are SIGRT_1.., 64 is SIGRTMAX.
/// </summary>
public static class Signals
{
    private static readonly XlatTable Table = Xlat.Table("signals");
    private static readonly int RtMin = (int)Xlat.Table("signal_limits")["SIGRTMIN"];
    private static readonly int RtMax = (int)Xlat.Table("signal_limits")["SIGRTMAX"];

    /// <summary>The highest signal number (64).</summary>
    public static int Max => RtMax;

    /// <summary>"SIGKILL" for 9, "SIGRTMIN", "SIGRT_3", "SIGRTMAX"; null outside 1..64.</summary>
    public static string? Name(int sig)
    {
        if (sig <= 0 || sig > RtMax) return null;
        if (sig < RtMin) return Table.Lookup((ulong)sig);
        if (sig == RtMin) return "SIGRTMIN";
        if (sig == RtMax) return "SIGRTMAX";
        return "SIGRT_" + (sig - RtMin).ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Accepts "SIGTERM", "term", "15", "SIGRTMIN+2", "RTMAX-1", "SIGRT_2", and aliases (SIGIOT, SIGPOLL).</summary>
    public static bool TryParse(string s, out int sig)
    {
        sig = 0;
        var t = s.Trim().ToUpperInvariant();
        if (t.Length == 0) return false;
        if (int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out sig))
            return sig >= 1 && sig <= RtMax;
        if (!t.StartsWith("SIG", StringComparison.Ordinal)) t = "SIG" + t;
        if (Table.TryGetValue(t, out var v)) { sig = (int)v; return true; }
        if (t == "SIGPOLL") { sig = (int)Table["SIGIO"]; return true; }
        if (t.StartsWith("SIGRT_", StringComparison.Ordinal) &&
            int.TryParse(t.AsSpan(6), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            sig = RtMin + n;
            return sig <= RtMax;
        }
        foreach (var (prefix, bas, dir) in new[] { ("SIGRTMIN", RtMin, 1), ("SIGRTMAX", RtMax, -1) })
        {
            if (!t.StartsWith(prefix, StringComparison.Ordinal)) continue;
            var rest = t.AsSpan(prefix.Length);
            if (rest.Length == 0) { sig = bas; return true; }
            if (rest[0] != (dir > 0 ? '+' : '-')) return false;
            if (!int.TryParse(rest[1..], NumberStyles.None, CultureInfo.InvariantCulture, out var k)) return false;
            sig = bas + dir * k;
            return sig >= RtMin && sig <= RtMax;
        }
        sig = 0;
        return false;
    }

    /// <summary>Signal names close to a misspelt one.</summary>
    public static IReadOnlyList<string> Suggest(string bad)
    {
        var all = Table.Entries.Select(e => e.Name).Concat(["SIGRTMIN", "SIGRTMAX"]).ToList();
        var t = bad.Trim().ToUpperInvariant();
        return Decoding.Suggest.Closest(t.StartsWith("SIG", StringComparison.Ordinal) ? t : "SIG" + t, all);
    }

    /// <summary>A signal argument: its name, or the number (0 and out-of-range values).</summary>
    internal static string Format(long sig) =>
        sig is > 0 and <= int.MaxValue && Name((int)sig) is { } n ? n : sig.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// A sigset_t as strace prints it: [INT TERM]; when more than half the signals are in it, the
    /// complement: ~[KILL STOP]; ~[] is every signal.
    /// </summary>
    internal static string FormatSet(ReadOnlySpan<byte> mask)
    {
        int bits = Math.Min(mask.Length * 8, RtMax);
        int set = 0;
        for (int i = 0; i < bits; i++)
            if ((mask[i / 8] & (1 << (i % 8))) != 0) set++;
        bool invert = set > bits / 2;
        var sb = new StringBuilder(invert ? "~[" : "[");
        bool first = true;
        for (int i = 0; i < bits; i++)
        {
            bool inSet = (mask[i / 8] & (1 << (i % 8))) != 0;
            if (inSet == invert) continue;
            if (!first) sb.Append(' ');
            first = false;
            var n = Name(i + 1);
            sb.Append(n is null ? (i + 1).ToString(CultureInfo.InvariantCulture) : n[3..]);
        }
        return sb.Append(']').ToString();
    }
}
