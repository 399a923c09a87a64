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
        public long SinceMs;
        public required MessageWrite Last;
    }

    /// <summary>An unfinished line is taken as it is after this long without a newline.</summary>
    public const int PartialLineMs = 200;
    private const int MaxLine = 1024;
    private readonly Dictionary<int, Pending> _byTid = [];

    /// <summary>Adds a write; returns the lines it completed, each with the time of its first write.</summary>
    public List<(string Line, ulong Ts, MessageWrite Write)> Add(MessageWrite m, long nowMs)
    {
        var done = new List<(string, ulong, MessageWrite)>();
        if (!_byTid.TryGetValue(m.Tid, out var p))
            _byTid[m.Tid] = p = new Pending { FirstTs = m.TimestampNs, SinceMs = nowMs, Last = m };
        if (p.Text.Length == 0) { p.FirstTs = m.TimestampNs; p.SinceMs = nowMs; }
        p.Last = m;
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

    /// <summary>Lines left unfinished: those of one thread group (it ended), or those waiting longer than <see cref="PartialLineMs"/>.</summary>
    public List<(string Line, ulong Ts, MessageWrite Write)> Flush(long nowMs, int? pid = null)
    {
        var done = new List<(string, ulong, MessageWrite)>();
        foreach (var (tid, p) in _byTid)
        {
            if (p.Text.Length == 0) continue;
            if (pid is { } only ? p.Last.Pid != only : nowMs - p.SinceMs < PartialLineMs) continue;
            done.Add((p.Text.ToString(), p.FirstTs, p.Last));
            p.Text.Clear();
        }
        if (pid is { } gone)
            foreach (var tid in _byTid.Where(kv => kv.Value.Last.Pid == gone).Select(kv => kv.Key).ToList())
                _byTid.Remove(tid);
        return done;
    }
}
