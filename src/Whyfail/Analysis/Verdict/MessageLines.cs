using System.Text;
using Whyfail.Events;

namespace Whyfail.Analysis.Verdict;

/// <summary>
/// Joins a thread's writes to standard error (or output, or a terminal) into lines: programs print one message in
/// several writes ("cat: ", the path, ": Permission denied", "\n").
/// </summary>
public sealed class MessageLines
{
    private sealed class Pending
    {
        public readonly StringBuilder Text = new();
        public ulong FirstTs;
        /// <summary>When the last write arrived here (whyfail's clock).</summary>
        public long LastArrivedMs;
        /// <summary>The kernel time of the thread's last write or other captured call since.</summary>
        public ulong LastTs;
        public required MessageWrite Last;
    }

    /// <summary>
    /// An unfinished line is taken as it is after this long without another write, counted both in the kernel's
    /// clock (from the last write's timestamp) and in whyfail's (from its arrival): either alone splits messages
    /// when whyfail reads behind the kernel or the writer is slow between its writes (glibc's error() looks up a
    /// translation between "cat: PATH" and ": Permission denied"; in an emulated lab kernel that took over 200 ms
    /// of whyfail's time, and the second half was linked to the lookup's own failure).
    /// </summary>
    public const int PartialLineMs = 200;
    private const int MaxLine = 1024;
    private readonly Dictionary<int, Pending> _byTid = [];

    /// <summary>Adds a write; returns the lines it completed, each with the time of its first write.</summary>
    public List<(string Line, ulong Ts, MessageWrite Write)> Add(MessageWrite m, long nowMs)
    {
        var done = new List<(string, ulong, MessageWrite)>();
        if (!_byTid.TryGetValue(m.Tid, out var p))
            _byTid[m.Tid] = p = new Pending { FirstTs = m.TimestampNs, Last = m };
        if (p.Text.Length == 0) p.FirstTs = m.TimestampNs;
        p.Last = m;
        p.LastArrivedMs = nowMs;
        p.LastTs = m.TimestampNs;
        foreach (char c in Encoding.UTF8.GetString(m.Data))
        {
            if (c == '\n')
            {
                // "\r\n": what programs write to a terminal in raw mode
                if (p.Text.Length > 0 && p.Text[^1] == '\r') p.Text.Length--;
                if (p.Text.Length > 0) done.Add((p.Text.ToString(), p.FirstTs, m));
                p.Text.Clear();
                p.FirstTs = m.TimestampNs;
            }
            else if (p.Text.Length < MaxLine)
                p.Text.Append(c);
        }
        return done;
    }

    /// <summary>
    /// A captured call of <paramref name="tid"/> (a failure, or a success that is reported): a thread with an unfinished
    /// line that is still at work between its writes is not quiet (glibc's error() fails to open a translation catalog
    /// between "cat: PATH" and ": No such file or directory"; with whyfail reading promptly, a slow emulated CPU split
    /// the line there).
    /// </summary>
    public void Busy(int tid, ulong timestampNs, long nowMs)
    {
        if (!_byTid.TryGetValue(tid, out var p) || p.Text.Length == 0) return;
        p.LastArrivedMs = Math.Max(p.LastArrivedMs, nowMs);
        p.LastTs = Math.Max(p.LastTs, timestampNs);
    }

    /// <summary>Some thread has written part of a line (cheap: the verdict asks after every failure of a flood).</summary>
    public bool Unfinished
    {
        get
        {
            foreach (var p in _byTid.Values)
                if (p.Text.Length > 0) return true;
            return false;
        }
    }

    /// <summary>
    /// Lines left unfinished: those of one thread group (it ended), or those whose last write is older than
    /// <see cref="PartialLineMs"/> in both clocks (<paramref name="kernelNowNs"/>: CLOCK_MONOTONIC, the clock of the
    /// events' timestamps; null, now).
    /// </summary>
    public List<(string Line, ulong Ts, MessageWrite Write)> Flush(long nowMs, int? pid = null, ulong? kernelNowNs = null)
    {
        ulong kernelNow = kernelNowNs ?? KernelClock.NowNs();
        var done = new List<(string, ulong, MessageWrite)>();
        foreach (var (tid, p) in _byTid)
        {
            if (p.Text.Length == 0) continue;
            if (pid is { } only ? p.Last.Pid != only : !Quiet(p, nowMs, kernelNow)) continue;
            done.Add((p.Text.ToString(), p.FirstTs, p.Last));
            p.Text.Clear();
        }
        if (pid is { } gone)
            foreach (var tid in _byTid.Where(kv => kv.Value.Last.Pid == gone).Select(kv => kv.Key).ToList())
                _byTid.Remove(tid);
        return done;
    }

    private static bool Quiet(Pending p, long nowMs, ulong kernelNowNs) =>
        nowMs == long.MaxValue ||
        (nowMs - p.LastArrivedMs >= PartialLineMs && (kernelNowNs <= p.LastTs ? 0 : kernelNowNs - p.LastTs) >= PartialLineMs * 1_000_000UL);
}
