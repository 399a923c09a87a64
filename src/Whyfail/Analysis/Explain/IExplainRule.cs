using Whyfail.Events;

namespace Whyfail.Analysis.Explain;

/// <summary>
/// One cause of failure that can be recognised from the event and the process's live state. Rules are small,
/// one per file under Rules/, and listed in <see cref="ExplainEngine"/>. A rule yields nothing when it cannot
/// establish its cause (it never guesses without saying so: inferences use "probably" and Certain = false), and
/// notes what it looked at in <see cref="ProcessView.Checked"/> so the engine can say so when nothing matched.
/// </summary>
public interface IExplainRule
{
    /// <summary>Stable id, e.g. "path.missing_component"; used as <see cref="Explanation.Rule"/>.</summary>
    string Id { get; }

    /// <summary>Cheap test on the event alone (syscall name, errno).</summary>
    bool AppliesTo(SyscallEvent ev);

    IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc);

    /// <summary>True when the rule rests only on kernel evidence of the call, so it stays certain after the process is gone.</summary>
    bool FromEvidence => false;
}
