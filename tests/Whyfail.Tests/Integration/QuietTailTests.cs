using System.Diagnostics;
using Whyfail.Tests.Explain;
using Xunit;
using Xunit.Abstractions;

namespace Whyfail.Tests.Integration;

/// <summary>
/// A failure right before a quiet spell is reported during the quiet spell, not when something else fails.
/// whyfail.bpf.c wakes the reader for at most one record per wake period (wake_flag: BPF_RB_NO_WAKEUP for the
/// others; WF_WAKE_NS, 10 ms), and libbpf's ring_buffer__poll reads only the rings epoll reported: a failure that comes
/// within a wake period of the one that woke the reader, once the reader sleeps again, stayed in the ring until a later
/// failure woke it — in -p and --system sessions (no command's end to wake them) on a quiet machine, for ever (the
/// reader now reads the ring at every wait's timeout too).
/// The target (fail_behind_wake) fails, watches whyfail's reader thread (/proc: it slept since, and sleeps in
/// poll now) and fails again at once when that came within 8 ms (under the wake period), then stays quiet.
/// Where the reader never sleeps again that soon in 100 tries ("not armed") the last failure may have woken it itself,
/// and the test checks less than it means to (xunit 2 cannot skip at run time). So it is in the lab's emulated CPU, on
/// both kernels: there whyfail takes 0.1–0.4 s of the guest's CPU to report a failure, so it is never asleep again within
/// a wake period; the tries are bounded so that their ~100 reports come within the 2-minute wait (1 000 tries' did not:
/// the final failure queued behind them, bench/README "The QuietTail test in the lab, session 17").
/// </summary>
[Collection("tracing")]
[Trait("suite", "integration")]
public class QuietTailTests(ITestOutputHelper log)
{
    [Theory]
    [InlineData("-p")]
    [InlineData("--system")]
    public void AFailureThatWokeNobodyIsReportedWhileAllIsQuiet(string mode)
    {
        string dir = Directory.CreateTempSubdirectory("wf-quiet-").FullName;
        string name = "wfquiet" + Guid.NewGuid().ToString("N")[..8];
        string copy = Path.Combine(dir, name), report = Path.Combine(dir, "whyfail.log");
        string prefix = $"/nonexistent-whyfail/{name}";
        File.Copy(WhyfailRunner.Program("fail_behind_wake"), copy);
        using var target = Process.Start(new ProcessStartInfo(copy) { ArgumentList = { prefix, "8000", "100" },
            RedirectStandardInput = true, RedirectStandardOutput = true })!;
        Process? whyfail = null;
        try
        {
            int pid = int.Parse(target.StandardOutput.ReadLine()!.Split(' ')[1]);
            string[] args = mode == "-p" ? ["-p", pid.ToString()] : ["--system", "--comm", name];
            whyfail = Process.Start(WhyfailRunner.StartInfo([.. args, "--routine", "--color", "never", "-o", report]))!;
            whyfail.StandardInput.Close();
            var stderr = whyfail.StandardError.ReadToEndAsync();
            _ = whyfail.StandardOutput.ReadToEndAsync();
            OutputTargetTests.WaitFor(whyfail, report, "whyfail: tracing ");
            target.StandardInput.WriteLine(whyfail.Id);
            target.StandardInput.Flush();
            // The target stays quiet after its last failure (blocked reading its stdin): nothing it does wakes the reader.
            OutputTargetTests.WaitFor(whyfail, report, $"\"{prefix}-final\"");
            target.StandardInput.Close();
            string armed = target.StandardOutput.ReadToEnd().Trim(); // "armed N", or "not armed" (see above)
            Assert.True(target.WaitForExit(TimeSpan.FromMinutes(1)), "the target did not end");
            log.WriteLine($"{mode}: {armed}");
            if (mode == "--system") Sh.Run("kill", "-TERM", whyfail.Id.ToString());
            Assert.True(whyfail.WaitForExit(TimeSpan.FromMinutes(3)), "whyfail did not finish");
            Assert.True(whyfail.ExitCode == 0, $"exit {whyfail.ExitCode} ({armed}): {stderr.Result}");
        }
        finally
        {
            if (!target.HasExited) target.Kill();
            if (whyfail is { HasExited: false }) whyfail.Kill();
            whyfail?.Dispose();
            Directory.Delete(dir, true);
        }
    }
}
