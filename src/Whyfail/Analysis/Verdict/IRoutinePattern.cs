namespace Whyfail.Analysis.Verdict;

/// <summary>
/// One general shape of a failure the program recovered from by design (one pattern per file, listed in
/// <see cref="RoutinePatterns"/>). Never a list of known paths: patterns look at the call, its errno and what
/// the program did next.
/// </summary>
public interface IRoutinePattern
{
    /// <summary>
    /// True when the pattern rests on what the program did next (it found the name elsewhere, it polled);
    /// false when it rests on the failure's shape alone: such a failure can still be the one that explains a
    /// bad exit when nothing else does.
    /// </summary>
    bool Strong { get; }

    /// <summary>The routine judgement, or null when the pattern does not apply.</summary>
    Events.Routine? Judge(Tracked t, ProcessTrack process);
}
