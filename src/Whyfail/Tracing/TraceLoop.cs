using System.Diagnostics;
using Whyfail.Capture;

namespace Whyfail.Tracing;

/// <summary>The polling loop of a tracing session, shared by `whyfail` and `whyfail graph`.</summary>
public static class TraceLoop
{
    /// <summary>
    /// Delivers events until the launched command exits, every -p process is gone, or
    /// <paramref name="stop"/> says so; <paramref name="afterPoll"/> runs after each batch of events
    /// (write out buffered output, background work). Returns the command's exit status (0 without a command).
    /// </summary>
    /// <param name="stoppedEarly">Runs when <paramref name="stop"/> ended the loop while the launched command still runs, before waiting for it.</param>
    public static int Run(TracepointCapture capture, Process? child, IReadOnlyList<int> pids, Func<bool> stop, Action? afterPoll = null,
        Action? stoppedEarly = null)
    {
        while (!stop())
        {
            capture.Poll(100);
            afterPoll?.Invoke();
            if (child != null && child.HasExited) break;
            if (pids.Count > 0 && pids.All(p => !Directory.Exists($"/proc/{p}"))) break;
        }
        if (child == null) return 0;
        if (!child.HasExited) stoppedEarly?.Invoke();
        child.WaitForExit();
        return child.ExitCode;
    }
}
