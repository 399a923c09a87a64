using System.Diagnostics;

namespace Whyfail.Capture;

/// <summary>
/// WHYFAIL_RING_STATS=1 (a measuring aid, bench/README "Floods at two threads, session 17"), printed at the end: the
/// reader's waits (woken by the ring or not, the longest), the bytes waiting in the ring when each wait ended (the
/// first wait's, the peak and when it was seen: how close a flood came to a full ring), the longest stretch between two
/// waits (reading, writing the output, the periodic work), and the records and bytes read.
/// </summary>
internal sealed class RingStats
{
    private long _waits, _woken, _records, _bytes, _peakBytes, _firstBytes = -1, _sumBytes, _full;
    private long _peakAtMs, _longestWaitTicks, _longestWorkTicks, _waitStart;
    private readonly long _start = Stopwatch.GetTimestamp();

    public void Waiting() => _waitStart = Stopwatch.GetTimestamp();

    public void Waited(bool woken, long backlogBytes, long ringBytes)
    {
        long now = Stopwatch.GetTimestamp();
        if (_waits > 0) _longestWorkTicks = Math.Max(_longestWorkTicks, _waitStart - _lastWaitEnd);
        _longestWaitTicks = Math.Max(_longestWaitTicks, now - _waitStart);
        _lastWaitEnd = now;
        _waits++;
        if (woken) _woken++;
        if (_firstBytes < 0) (_firstBytes, _firstAtMs) = (backlogBytes, (long)Stopwatch.GetElapsedTime(_start).TotalMilliseconds);
        _sumBytes += backlogBytes;
        if (backlogBytes * 2 > ringBytes) _full++;
        if (backlogBytes > _peakBytes) (_peakBytes, _peakAtMs) = (backlogBytes, (long)Stopwatch.GetElapsedTime(_start).TotalMilliseconds);
    }

    private long _lastWaitEnd, _firstAtMs;

    public void Record(int size)
    {
        _records++;
        _bytes += size;
    }

    private static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

    public string Describe(long ringBytes, ulong lost) =>
        $"{_waits} waits in {Stopwatch.GetElapsedTime(_start).TotalMilliseconds:F0} ms ({_woken} woken by the ring; longest {Ms(_longestWaitTicks):F1} ms), " +
        $"longest work between waits {Ms(_longestWorkTicks):F1} ms; {_records} records, {_bytes} bytes ({(_records > 0 ? _bytes / _records : 0)} per record); " +
        $"waiting when a wait ended: first {_firstBytes} at {_firstAtMs} ms, peak {_peakBytes} bytes ({100.0 * _peakBytes / ringBytes:F1} % of {ringBytes}) at {_peakAtMs} ms, " +
        $"mean {(_waits > 0 ? _sumBytes / _waits : 0)}, over half the ring {_full} times; {lost} lost";
}
