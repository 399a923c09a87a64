using System.Text.Json;
using Xunit;
using static Whyfail.Tests.Integration.ContextTests;

namespace Whyfail.Tests.Integration;

/// <summary>
/// Real programs that fail and exit at once, so that their failures are explained after they are gone: the
/// process.gone note (and the lower certainty it brings) is there only where a check needed what went with the
/// process; an explanation complete without it stands alone.
/// </summary>
[Collection("tracing")]
[Trait("suite", "integration")]
public class GoneProcessTests
{
    private static JsonElement Why(JsonElement ev, string rule) =>
        ev.GetProperty("explanation").EnumerateArray().First(x => x.GetProperty("rule").GetString() == rule);

    private static string WhyText(JsonElement ev, string rule) => Why(ev, rule).GetProperty("text").GetString()!;

    [Fact]
    public void ARefusedNonBlockingConnectNeedsNothingOfTheGoneProcess()
    {
        // connect -> EINPROGRESS, poll, getsockopt(SO_ERROR) -> ECONNREFUSED as data, exit 1: what curl does against a
        // closed port. The address and this machine's listeners say it all.
        var run = WhyfailRunner.Run("--", WhyfailRunner.Program("connect_refused"));
        Assert.True(run.ExitCode == 1, run.ToString());
        string port = run.Stdout.Split(' ', '\n')[3];
        var ev = Assert.Single(run.Failures("getsockopt", "ECONNREFUSED"));
        Assert.Contains($"was refused: nothing is listening on 127.0.0.1:{port}: no TCP socket is in LISTEN state on port {port}", WhyText(ev, "net.connection_refused"));
        Assert.True(Why(ev, "net.connection_refused").GetProperty("certain").GetBoolean(), ev.ToString());
        Assert.DoesNotContain("process.gone", Rules(ev));

        var text = WhyfailRunner.RunText("--", WhyfailRunner.Program("connect_refused"));
        Assert.Contains("nothing is listening on 127.0.0.1:", text.Text);
        Assert.DoesNotMatch(@"pid \d+ has exited", text.Text); // (the reaper's notice in the lab says "once whyfail has exited")
    }

    /// <summary>
    /// Runs <paramref name="program"/> with two modes that each fail <paramref name="syscall"/> with EINVAL and checks the
    /// two failures once the first was analysed after the program exited (the second came after it, so it was too): the
    /// first shows it by having no <paramref name="rule"/> explanation, which only the live process could give. At most 6
    /// runs.
    /// </summary>
    private static void TwoFailuresAfterTheExit(string program, string syscall, string rule, string[] modes, Action<JsonElement, JsonElement> check)
    {
        for (int attempt = 0; attempt < 6; attempt++)
        {
            var run = WhyfailRunner.Run(["--", WhyfailRunner.Program(program), .. modes], TimeSpan.FromMinutes(3));
            Assert.True(run.ExitCode == 0, run.ToString());
            var fails = run.Failures(syscall, "EINVAL").ToList();
            Assert.True(fails.Count == 2, run.ToString());
            if (Rules(fails[0]).Contains(rule)) continue; // analysed while the program still ran
            check(fails[0], fails[1]);
            return;
        }
        Assert.Fail("in 6 runs, whyfail always analysed the first failure while the program was still alive");
    }

    [Fact]
    public void AClone3CheckThatNeedsThePidNamespacesKeepsTheNoteAndOneThatDoesNotHasNone() =>
        // set-tid-deep: only the caller's pid namespace depth explains it (alloc_pid); signal-in-flags: the captured struct alone.
        TwoFailuresAfterTheExit("clone3_bad", "clone3", "clone.invalid_args", ["set-tid-deep", "signal-in-flags"], (deep, signal) =>
        {
            Assert.StartsWith("clone_args.flags = SIGCHLD has a signal in its low byte", WhyText(signal, "clone.invalid_args"));
            Assert.True(Why(signal, "clone.invalid_args").GetProperty("certain").GetBoolean());
            Assert.DoesNotContain("process.gone", Rules(signal));

            Assert.Contains("unknown", Rules(deep));
            Assert.EndsWith("but it does not hold its pid namespaces, which could not be checked", WhyText(deep, "process.gone"));
        });

    [FactRequiringIoUring]
    public void AnIoUringSetupCheckThatNeedsADescriptorKeepsTheNoteAndOneThatDoesNotHasNone() =>
        // attach-not-ring: wq_fd's file (a pipe) is read from the live process; bad-cpu: CPU 4095 against this machine's
        // CPUs (the caller's cpuset is not asked).
        TwoFailuresAfterTheExit("uring_bad", "io_uring_setup", "io_uring.invalid_params", ["attach-not-ring", "bad-cpu"], (attach, cpu) =>
        {
            Assert.StartsWith("io_uring_params.sq_thread_cpu = 4095 is not a CPU of this machine", WhyText(cpu, "io_uring.invalid_params"));
            Assert.DoesNotContain("process.gone", Rules(cpu));

            Assert.Matches(@"but it does not hold descriptor \d+, which could not be checked$", WhyText(attach, "process.gone"));
        });
}
