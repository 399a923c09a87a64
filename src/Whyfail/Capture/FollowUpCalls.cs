using Whyfail.Decoding;
using Whyfail.Events;

namespace Whyfail.Capture;

/// <summary>
/// The successful calls the kernel reports after a failure of the same task (WF_EVF_FOLLOWUP; at most
/// WF_FOLLOWUPS of them per failure), so that the verdict sees what the program did next: every call
/// that takes a path or a name (its capture spec has a string argument: the search succeeded
/// elsewhere, or a fallback was opened), and the calls that wait (a non-blocking call's EAGAIN or
/// EINPROGRESS followed by poll, a wait loop).
/// </summary>
public static class FollowUpCalls
{
    private static readonly string[] Waits =
        ["poll", "ppoll", "select", "pselect6", "epoll_wait", "epoll_pwait", "epoll_pwait2", "connect", "wait4", "waitid"];

    /// <summary>The set, as made at build time with the capture specs (<see cref="CaptureTable.FollowUps"/>).</summary>
    public static IReadOnlySet<int> Default()
    {
        var set = new HashSet<int>(CaptureTable.FollowUps.Length);
        foreach (int nr in CaptureTable.FollowUps) set.Add(nr);
        return set;
    }

    /// <summary>The set computed from the decoder families' specs and the waiting calls (what the build-time table is made of).</summary>
    public static IReadOnlySet<int> Compute()
    {
        var set = new HashSet<int>();
        foreach (var (nr, spec) in Decoder.CaptureSpecs())
            if (spec.Kind.Any(k => k is CaptureKind.String or CaptureKind.StringVector))
                set.Add(nr);
        foreach (var name in Waits)
            if (SyscallTable.TryGetNumber(name, out int nr)) set.Add(nr);
        return set;
    }
}
