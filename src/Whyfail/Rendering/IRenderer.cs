using Whyfail.Events;

namespace Whyfail.Rendering;

/// <summary>An output format. One file per format; the trace session only talks to this interface.</summary>
public interface IRenderer : IDisposable
{
    /// <summary>A note about the session (a missing kernel feature, the command's exit), shown once.</summary>
    void Notice(string text);
    void Event(SyscallEvent ev);
    void Summary(TraceSummary summary);
    /// <summary>How a process ended and the failures that led to it (the verdict).</summary>
    void Verdict(VerdictReport verdict) { }
    /// <summary>Writes out what is buffered; called after each batch of events and before waiting.</summary>
    void Flush() { }
    /// <summary>The session can name kernel functions and addresses (formats that show raw origin records use it).</summary>
    void UseKernelNames(IKernelNames names) { }
}

/// <summary>Counts at the end of a session (syscall × errno × comm) and what could not be reported.</summary>
public sealed class TraceSummary
{
    /// <summary>Calls per (syscall, errno, comm).</summary>
    public Dictionary<(string Syscall, string Errno, string Comm), long> Counts { get { AddRepeats(); return _counts; } }
    private readonly Dictionary<(string Syscall, string Errno, string Comm), long> _counts = [];
    public ulong Reported { get; set; }
    public ulong Lost { get; set; }
    public ulong LostEvidence { get; set; }
    public long HiddenInternal { get; set; }
    public long Filtered { get; set; }
    /// <summary>Calls whyfail injected (--inject), null without --inject.</summary>
    public long? Injected { get; set; }
    /// <summary>`whyfail deny`: refusals per rule (the kernel's counters) and how many were reported; null otherwise.</summary>
    public DenySummary? Deny { get; set; }
    /// <summary>Failures judged routine / not routine (the verdict's judgement).</summary>
    public long Routine { get; set; }
    public long NotRoutine { get; set; }
    /// <summary>Failures explained by reusing an identical failure's explanation, and left unexplained because whyfail fell behind.</summary>
    public long ExplanationsReused { get; set; }
    public long ExplanationsSkipped { get; set; }
    /// <summary>Failures the verdict judged before their wait for what follows was over (too many were held).</summary>
    public long JudgedEarly { get; set; }
    /// <summary>Failures judged when their thread repeated them at once, instead of after their wait (see docs/json.md).</summary>
    public long JudgedAtRepeat { get; set; }
    public bool Print { get; set; }

    /// <summary>Distinct (syscall, errno, comm) rows kept; later process names are counted as "(other)" (a long --system session meets endless names).</summary>
    public const int MaxRows = 10000;

    public void Count(string syscall, string errno, string comm)
    {
        // A repeat of the last row's call (the same strings: the capture and decoding share them) is only counted here,
        // added to its row when the counts are read: no key hashed per event of a flood (issue 16.3).
        if (ReferenceEquals(syscall, _last.Syscall) && ReferenceEquals(errno, _last.Errno) && ReferenceEquals(comm, _last.Comm))
        {
            _repeats++;
            return;
        }
        AddRepeats();
        var key = (syscall, errno, comm);
        var row = key;
        if (_counts.Count >= MaxRows && !_counts.ContainsKey(key)) row = (syscall, errno, "(other)");
        System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_counts, row, out _)++;
        (_last, _lastRow) = (key, row);
    }

    /// <summary>The call last counted and the row it went to; repeats of it not yet added to that row.</summary>
    private (string? Syscall, string? Errno, string? Comm) _last;
    private (string Syscall, string Errno, string Comm) _lastRow;
    private long _repeats;

    private void AddRepeats()
    {
        if (_repeats == 0) return;
        System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_counts, _lastRow, out _) += _repeats;
        _repeats = 0;
    }
}

/// <summary>What `whyfail deny` refused: per rule from the kernel's counters; reported = paired with their failing call.</summary>
/// <param name="RingFull">Refusals the kernel had no room to report (its ring buffer was full).</param>
/// <param name="Unpaired">Refusals reported without their call: no failing call of the thread followed in the trace.</param>
public sealed record DenySummary(IReadOnlyList<(int Number, string Text, ulong Refused)> Rules, ulong Reported, ulong RingFull, ulong Unpaired)
{
    /// <summary>Refusals not reported with their call, whatever the reason (the counters' total minus <see cref="Reported"/>).</summary>
    public ulong Unreported
    {
        get
        {
            ulong total = 0;
            foreach (var r in Rules) total += r.Refused;
            return total > Reported ? total - Reported : 0;
        }
    }
}
