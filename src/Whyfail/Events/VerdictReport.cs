namespace Whyfail.Events;

/// <summary>
/// The answer to "why did my program fail": how a process ended and the failures that led to it (each with
/// its <see cref="SyscallEvent.Consequence"/>), plus how many of its failures were routine.
/// </summary>
public sealed class VerdictReport
{
    public int Pid { get; init; }
    public string Comm { get; init; } = "";
    /// <summary>The exit status, or null when a signal ended it.</summary>
    public int? ExitStatus { get; init; }
    /// <summary>The fatal signal, or 0.</summary>
    public int Signal { get; init; }
    public bool CoreDumped { get; init; }
    public IReadOnlyList<SyscallEvent> Culprits { get; init; } = [];
    /// <summary>
    /// For each culprit (same order): the children that passed it up, innermost first, when it happened in a
    /// descendant (empty when it is the process's own failure).
    /// </summary>
    public IReadOnlyList<IReadOnlyList<ChildEnd>> Via { get; init; } = [];
    /// <summary>Failures of the process and its descendants judged routine / not routine.</summary>
    public long Routine { get; init; }
    public long NotRoutine { get; init; }
    public bool Failed => Signal != 0 || ExitStatus is not (null or 0);
}
