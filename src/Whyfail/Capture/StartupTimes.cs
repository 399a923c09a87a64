using System.Diagnostics;

namespace Whyfail.Capture;

/// <summary>
/// WHYFAIL_STARTUP_TIMES=1: one line on standard error per step of a session's start and end (milliseconds since the
/// process started, and its CPU time), to see where launch → the command's first call and its exit → whyfail's exit go
/// (bench/README "Start-up"). Off by default; costs nothing then.
/// </summary>
internal static class StartupTimes
{
    private static readonly bool On = Environment.GetEnvironmentVariable("WHYFAIL_STARTUP_TIMES") == "1";

    public static bool Enabled => On;

    private static int _launchedShown;

    public static void Mark(string step)
    {
        if (!On) return;
        using var self = Process.GetCurrentProcess();
        // Once: the process's start on CLOCK_REALTIME (ns; /proc/self/stat's start time, 10 ms ticks), the clock the
        // traced command's own timestamps use, so a harness can measure from whyfail's start rather than its own fork.
        if (Interlocked.Exchange(ref _launchedShown, 1) == 0)
            Console.Error.WriteLine($"whyfail: startup: launched at {(self.StartTime.ToUniversalTime() - DateTime.UnixEpoch).Ticks * 100} ns (CLOCK_REALTIME)");
        double since = (DateTime.Now - self.StartTime).TotalMilliseconds;
        Console.Error.WriteLine($"whyfail: startup: {step}: {since:0} ms since launch, {self.TotalProcessorTime.TotalMilliseconds:0} ms CPU");
    }
}
