using Whyfail.Events;

namespace Whyfail.Analysis.Verdict;

/// <summary>A failure the verdict holds until it can judge it, with what its thread did after it.</summary>
public sealed class Tracked(SyscallEvent ev, long arrivedMs)
{
    /// <summary>How many successes after the failure are kept to judge it (the kernel reports as many per failure: WF_FOLLOWUPS).</summary>
    public const int KeptSuccesses = 4;

    public SyscallEvent Event { get; } = ev;
    public FailureSubject Subject { get; set; } = FailureSubject.Of(ev);
    /// <summary>When it reached user space (milliseconds on whyfail's clock): the time limit counts from here.</summary>
    public long ArrivedMs { get; } = arrivedMs;
    /// <summary>Successful calls of the same thread after it (follow-ups), the first <see cref="KeptSuccesses"/>.</summary>
    public IReadOnlyList<SyscallEvent> SuccessesAfter => (IReadOnlyList<SyscallEvent>?)_successesAfter ?? [];
    /// <summary>Made at the first success (a flood of failures holds thousands of failures that have none).</summary>
    private List<SyscallEvent>? _successesAfter;

    public void AddSuccess(SyscallEvent ev) => (_successesAfter ??= new List<SyscallEvent>(KeptSuccesses)).Add(ev);
    /// <summary>The thread made some call after this one (it carried on).</summary>
    public bool ThreadCarriedOn { get; set; }
    /// <summary>The thread later ran under the command name this failed exec was looking for (an exec search that succeeded).</summary>
    public bool BecameSearchedProgram { get; set; }
    /// <summary>
    /// Its thread's next call was the same failure again: it is judged as soon as it is the oldest held, not after its wait
    /// (<see cref="FailureTracker.JudgedAtRepeat"/>).
    /// </summary>
    public bool Repeated { get; set; }
    /// <summary>Handed to the renderer: no more changes show in the output.</summary>
    public bool Released { get; set; }
    /// <summary>The strength of the message link (0: none); a better-matching message takes the link over.</summary>
    public int LinkScore { get; set; }
}
