using System.Diagnostics;
using Whyfail.Capture;

namespace Whyfail.Tracing;

/// <summary>The polling loop of a tracing session, shared by `whyfail` and `whyfail graph`.</summary>
public static class TraceLoop
{
    /// <summary>Records in one batch that make it a flood's (see the wait in <see cref="Run"/>).</summary>
    public const int FloodBatch = 64;

    /// <summary>
    /// Delivers events until the launched command exits, every -p process is gone, or
    /// <paramref name="stop"/> says so; <paramref name="afterPoll"/> runs after each batch of events
    /// (write out buffered output, background work). Returns the command's exit status (0 without a command).
    /// </summary>
    /// <param name="stoppedEarly">Runs when <paramref name="stop"/> ended the loop while the launched command still runs, before waiting for it.</param>
    public static int Run(TracepointCapture capture, Process? child, IReadOnlyList<int> pids, Func<bool> stop, Action? afterPoll = null,
        Action? stoppedEarly = null)
    {
        // The launcher's end wakes the loop at once (a pidfd polled with the ring buffer), not at the next 100 ms
        // timeout; nothing of the periodic work runs after it (the end drains what is left).
        using var end = child != null ? ProcessEnd.Open(child.Id) : null;
        bool ended = false;
        if (end != null && StartupTimes.Enabled) WatchEnd(end);
        try
        {
            while (!stop())
            {
                int n = capture.Poll(100, end?.Fd ?? -1, out ended);
                if (StartupTimes.Enabled && n > 0) StartupTimes.Mark($"{n} events delivered");
                if (ended) break;
                afterPoll?.Invoke();
                if (StartupTimes.Enabled && n > 0) StartupTimes.Mark("periodic work done");
                // A flood: the ring buffer had many records for this batch. The reader waits a millisecond before it looks
                // again, so that the next batch is a large one: without it, a reader that keeps up looks again at once, finds
                // a few dozen records, and pays the wait, the periodic work and a write of the output for each few dozen
                // (issue 16.3: 4,000-11,000 waits a second at two failing threads, a seventh of the reader's CPU; bench/README
                // "A run of one failure, session 23"). Only where the ring has room for a millisecond of any flood.
                if (n >= FloodBatch && capture.RoomForANap) Thread.Sleep(1);
                if (child != null && child.HasExited) break;
                if (pids.Count > 0 && pids.All(p => !Directory.Exists($"/proc/{p}"))) break;
            }
        }
        finally
        {
            capture.ReaderAtRest(); // before the end's work: the link reaper, a process of its own, would inherit a raised priority
        }
        if (child == null) return 0;
        StartupTimes.Mark(ended ? "command's end seen (pidfd)" : "loop ended");
        if (!ended && !child.HasExited) stoppedEarly?.Invoke();
        child.WaitForExit();
        StartupTimes.Mark("command reaped");
        return child.ExitCode;
    }

    /// <summary>WHYFAIL_STARTUP_TIMES: marks the command's exit when it happens (a thread blocked on its pidfd), whatever the loop is busy with.</summary>
    private static unsafe void WatchEnd(ProcessEnd loops)
    {
        if (loops.Duplicate() is not { } end) return;
        new Thread(() =>
        {
            using (end)
            {
                var p = new Whyfail.Capture.Native.Libc.PollFd { Fd = end.Fd, Events = Whyfail.Capture.Native.Libc.POLLIN };
                if (Whyfail.Capture.Native.Libc.Poll(&p, 1, -1) > 0) StartupTimes.Mark("command exited (its pidfd readable)");
            }
        }) { IsBackground = true, Name = "whyfail end watch" }.Start();
    }

    /// <summary>
    /// A pidfd (Linux ≥ 5.3): readable once the process has exited, whoever reaps it; null where the kernel has none. For
    /// the launcher, the one opened when it started (<see cref="Launcher.TakeEndFd"/>): opened now, it would not be had
    /// for a launcher that ended and was reaped already.
    /// </summary>
    private sealed class ProcessEnd : IDisposable
    {
        public int Fd { get; }
        private ProcessEnd(int fd) => Fd = fd;

        public static ProcessEnd? Open(int pid)
        {
            int fd = Launcher.TakeEndFd(pid);
            if (fd < 0) fd = Whyfail.Capture.Native.Libc.PidfdOpen(pid);
            return fd >= 0 ? new ProcessEnd(fd) : null;
        }

        public ProcessEnd? Duplicate()
        {
            int fd = Whyfail.Capture.Native.Libc.Fcntl(Fd, Whyfail.Capture.Native.Libc.F_DUPFD_CLOEXEC, 0);
            return fd >= 0 ? new ProcessEnd(fd) : null;
        }

        public void Dispose() => Whyfail.Capture.Native.Libc.Close(Fd);
    }
}
