using Whyfail.Decoding;
using Whyfail.Events;

namespace Whyfail.Tracing;

/// <summary>Which captured events are shown. Hidden ones still count in the summary.</summary>
public sealed class EventFilter(TraceSettings s)
{
    public enum Verdict { Show, Filtered, HiddenInternal }

    public Verdict Judge(SyscallEvent ev)
    {
        if (s.Syscalls != null && !s.Syscalls.Contains(ev.Nr)) return Verdict.Filtered;
        if (s.Comms != null && !s.Comms.Contains(ev.Comm)) return Verdict.Filtered;
        if (ev.Failed)
        {
            if (s.Errnos != null && !s.Errnos.Contains(ev.Errno)) return Verdict.Filtered;
            if (!s.ShowInternal && Errno.IsInternal(ev.Errno)) return Verdict.HiddenInternal;
        }
        else if (s.Errnos != null)
            return Verdict.Filtered;
        return Verdict.Show;
    }
}
