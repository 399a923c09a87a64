namespace Whyfail.Events;

/// <summary>
/// A failure the program recovered from by design, judged from what it did next (the verdict).
/// <paramref name="Kind"/> is "search", "fallback" or "probe" (JSON); <paramref name="Label"/> names the
/// group in the folded text line ("searches", "terminal probes"); <paramref name="Reason"/> says what was seen.
/// </summary>
public sealed record Routine(string Kind, string Label, string Reason);
