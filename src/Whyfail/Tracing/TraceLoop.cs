using System.Diagnostics;
using Whyfail.Capture;

namespace Whyfail.Tracing;

/// <summary>The polling loop of a tracing session, shared by `whyfail` and `whyfail graph`.</summary>
public static class TraceLoop
{
    /// <summary>
    /// Delivers events until the launched command exits, every -p process is gone, or
    /// <paramref name="stop"/> says so. Returns the command's exit status (0 without a command).
    /// </summary>
    public static int Run(TracepointCapture capture, Process? child, IReadOnlyList<int> pids, Func<bool> stop)
    {
        while (!stop())
        {
            capture.Poll(100);
            if (child != null && child.HasExited) break;
            if (pids.Count > 0 && pids.All(p => !Directory.Exists($"/proc/{p}"))) break;
        }
        if (child == null) return 0;
        child.WaitForExit();
        return child.ExitCode;
    }
}
