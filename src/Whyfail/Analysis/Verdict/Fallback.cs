using Whyfail.Events;

namespace Whyfail.Analysis.Verdict;

/// <summary>
/// A fallback: the name was absent, and among the thread's next successful calls one used another path in
/// the same directory (a locale's other spelling, the next candidate file of a lookup).
/// </summary>
public sealed class Fallback : IRoutinePattern
{
    public bool Strong => true;

    public Routine? Judge(Tracked t, ProcessTrack process)
    {
        if (!RoutinePatterns.IsAbsent(t.Event.Errno) || t.Subject.Path is null) return null;
        var after = t.SuccessesAfter;
        for (int i = 0; i < after.Count; i++)
        {
            var s = after[i];
            var other = FailureSubject.Of(s);
            if (t.Subject.SharesPlaceWith(other))
                return new Routine("fallback", "fallbacks", $"it then used {other.Path} in the same directory ({s.Syscall} succeeded)");
        }
        return null;
    }
}
