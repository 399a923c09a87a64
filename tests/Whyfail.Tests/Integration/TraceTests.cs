using System.Diagnostics;
using System.Text.Json;
using Xunit;

namespace Whyfail.Tests.Integration;

/// <summary>
/// whyfail end to end on the real kernel: real programs fail for real, and the JSON it prints is
/// checked field by field. These need root and BPF (tp_btf); they run on the host and in the lab.
/// </summary>
[Collection("tracing")] // one whyfail at a time: --system tests would see the others
[Trait("suite", "integration")]
public class TraceTests
{
    private static string P(string name) => WhyfailRunner.Program(name);

    private static string Uniq(string stem) => Path.Combine("/nonexistent-whyfail", $"{stem}-{Guid.NewGuid():N}");

    [Fact]
    public void OpenatEnoentIsReportedDecodedWithFlags()
    {
        string path = Uniq("missing");
        var run = WhyfailRunner.Run("--", P("open_missing"), path);
        Assert.True(run.ExitCode == 1, run.ToString()); // open_missing exits with the number of failures
        var ev = Assert.Single(run.Failures("openat", "ENOENT"), e => e.GetProperty("args")[1].GetString() == $"\"{path}\"");
        Assert.Equal(257, ev.GetProperty("nr").GetInt32());
        Assert.Equal(-2, ev.GetProperty("ret").GetInt64());
        Assert.Equal("AT_FDCWD", ev.GetProperty("args")[0].GetString());
        Assert.Equal("O_RDONLY|O_CLOEXEC", ev.GetProperty("args")[2].GetString());
        Assert.Equal("No such file or directory", ev.GetProperty("errno_text").GetString());
        Assert.False(ev.GetProperty("internal").GetBoolean());
        Assert.Equal("open_missing", ev.GetProperty("comm").GetString());
        int pid = int.Parse(run.Stdout.Split(' ', '\n')[1]);
        Assert.Equal(pid, ev.GetProperty("pid").GetInt32());
        Assert.Equal(0, run.Summary.GetProperty("lost").GetInt64());
    }

    [Fact]
    public void TextOutputIsStraceStyle()
    {
        string path = Uniq("text");
        var (code, text, _) = WhyfailRunner.RunText("--color", "never", "--", P("open_missing"), path);
        Assert.Equal(1, code);
        Assert.Matches($@"\[pid \d+\] openat\(AT_FDCWD, ""{path}"", O_RDONLY\|O_CLOEXEC\) = -1 ENOENT \(No such file or directory\)", text);
    }

    [Fact]
    public void FailureInAGrandchildHasTheGrandchildsPid()
    {
        string path = Uniq("grandchild");
        var run = WhyfailRunner.Run("--", P("grandchild"), P("open_missing"), path);
        Assert.True(run.ExitCode == 0, run.ToString());
        int grandchild = int.Parse(run.Stdout.Split('\n').First(l => l.StartsWith("grandchild ")).Split(' ')[1]);
        var ev = Assert.Single(run.Failures("openat", "ENOENT"), e => e.GetProperty("args")[1].GetString() == $"\"{path}\"");
        Assert.Equal(grandchild, ev.GetProperty("pid").GetInt32());
    }

    [Fact]
    public void NoFollowDoesNotSeeChildren()
    {
        string path = Uniq("nofollow");
        var run = WhyfailRunner.Run("--no-follow", "--", P("grandchild"), P("open_missing"), path);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.DoesNotContain(run.Syscalls, e => e.GetProperty("args").EnumerateArray().Any(a => a.GetString()!.Contains(path)));
    }

    [Fact]
    public void AttachToARunningProcessWithP()
    {
        string trigger = Path.Combine(Path.GetTempPath(), $"whyfail-trigger-{Guid.NewGuid():N}");
        string path = Uniq("attach");
        using var target = Process.Start(new ProcessStartInfo(P("wait_then_fail")) { ArgumentList = { trigger, path }, RedirectStandardOutput = true })!;
        int pid = int.Parse(target.StandardOutput.ReadLine()!.Split(' ')[1]);
        try
        {
            var run = WhyfailRunner.Run(["-p", pid.ToString()], TimeSpan.FromMinutes(5), (whyfail, output) =>
            {
                // Trigger the failure once whyfail says it is tracing.
                WaitForAttach(whyfail, output);
                File.WriteAllText(trigger, "");
            });
            Assert.True(run.ExitCode == 0, run.ToString());
            var ev = Assert.Single(run.Failures("openat", "ENOENT"), e => e.GetProperty("args")[1].GetString() == $"\"{path}\"");
            Assert.Equal(pid, ev.GetProperty("pid").GetInt32());
        }
        finally
        {
            File.Delete(trigger);
            if (!target.HasExited) target.Kill();
        }
    }

    /// <summary>Waits for whyfail's "tracing …" notice (written once every probe is attached and the processes adopted).</summary>
    internal static void WaitForAttach(Process whyfail, string output)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromMinutes(3))
        {
            if (whyfail.HasExited)
                throw new InvalidOperationException($"whyfail exited early with status {whyfail.ExitCode}");
            try
            {
                if (File.Exists(output) && File.ReadAllText(output).Contains("\"text\":\"tracing "))
                    return;
            }
            catch (IOException) { }
            Thread.Sleep(50);
        }
        throw new TimeoutException("whyfail did not start tracing within 3 minutes");
    }

    [Fact]
    public void MissingPidIsAClearError()
    {
        var run = WhyfailRunner.Run("-p", "999999999");
        Assert.Equal(5, run.ExitCode);
        Assert.Contains("no process with pid 999999999", run.Stderr);
    }

    [Fact]
    public void CommandNotFoundExits127()
    {
        var run = WhyfailRunner.Run("--", "whyfail-no-such-command-x");
        Assert.Equal(127, run.ExitCode);
        Assert.Contains("command not found: whyfail-no-such-command-x", run.Stderr);
    }

    [Fact]
    public void TheCommandsExitStatusIsReturned()
    {
        Assert.Equal(7, WhyfailRunner.Run("--", "/bin/sh", "-c", "exit 7").ExitCode);
        Assert.Equal(128 + 9, WhyfailRunner.Run("--", "/bin/sh", "-c", "kill -9 $$").ExitCode);
    }

    [Fact]
    public void RunAsNobodyGetsEacces()
    {
        var dir = Directory.CreateTempSubdirectory("whyfail-private-");
        try
        {
            File.SetUnixFileMode(dir.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            string file = Path.Combine(dir.FullName, "secret");
            File.WriteAllText(file, "x");
            var run = WhyfailRunner.Run("-u", "nobody", "--", P("open_missing"), file);
            Assert.True(run.ExitCode == 1, run.ToString());
            var ev = Assert.Single(run.Failures("openat", "EACCES"));
            Assert.Equal(65534, ev.GetProperty("euid").GetInt32());
        }
        finally
        {
            dir.Delete(true);
        }
    }

    [Fact]
    public void WithMinusUACommandIsFoundInThePathAsThatUserWouldFindIt()
    {
        // PATH's first directory holds the command but is root's alone (0700): execvp as nobody goes on past its EACCES
        // to the next one, and so does whyfail's search (root's own PATH had /root/.pyenv/shims/python3 first).
        var root = Directory.CreateTempSubdirectory("whyfail-upath-");
        try
        {
            File.SetUnixFileMode(root.FullName, (UnixFileMode)Convert.ToInt32("755", 8));
            string closed = Path.Combine(root.FullName, "closed"), open = Path.Combine(root.FullName, "open");
            string name = $"wf-which-{Guid.NewGuid():N}"[..20];
            foreach (var (dir, mode, says) in new[] { (closed, "700", "closed"), (open, "755", "open") })
            {
                Directory.CreateDirectory(dir);
                File.SetUnixFileMode(dir, (UnixFileMode)Convert.ToInt32(mode, 8));
                File.WriteAllText(Path.Combine(dir, name), $"#!/bin/sh\necho {says}\n");
                File.SetUnixFileMode(Path.Combine(dir, name), (UnixFileMode)Convert.ToInt32("755", 8));
            }
            var env = new Dictionary<string, string> { ["PATH"] = $"{closed}:{open}:/usr/bin:/bin" };
            var asNobody = WhyfailRunner.Run(["-u", "nobody", "--", name], TimeSpan.FromMinutes(3), env: env);
            Assert.True(asNobody.ExitCode == 0, asNobody.ToString());
            Assert.Equal("open", asNobody.Stdout.Trim());
            // root reaches the first one
            var asRoot = WhyfailRunner.Run(["--", name], TimeSpan.FromMinutes(3), env: env);
            Assert.True(asRoot.ExitCode == 0, asRoot.ToString());
            Assert.Equal("closed", asRoot.Stdout.Trim());
        }
        finally
        {
            root.Delete(true);
        }
    }

    [Fact]
    public void ErestartsysIsHiddenByDefaultAndShownWithShowInternal()
    {
        var hidden = WhyfailRunner.Run("--", P("restart_read"), "restart");
        Assert.True(hidden.ExitCode == 0, hidden.ToString());
        Assert.DoesNotContain(hidden.Syscalls, e => e.GetProperty("errno").GetString() == "ERESTARTSYS");
        Assert.True(hidden.Summary.GetProperty("hidden_internal").GetInt64() >= 1, hidden.ToString());

        var shown = WhyfailRunner.Run("--show-internal", "--", P("restart_read"), "restart");
        Assert.True(shown.ExitCode == 0, shown.ToString());
        var ev = Assert.Single(shown.Failures("read", "ERESTARTSYS"));
        Assert.True(ev.GetProperty("internal").GetBoolean());
        Assert.Equal(-512, ev.GetProperty("ret").GetInt64());
        var sig = Assert.Single(ev.GetProperty("evidence").EnumerateArray(), x => x.GetProperty("kind").GetString() == "signal");
        Assert.Equal("SIGUSR1", sig.GetProperty("signal").GetString());
        Assert.True(sig.GetProperty("sa_restart").GetBoolean());
        Assert.StartsWith("0x", sig.GetProperty("handler").GetString());
    }

    [Fact]
    public void EintrWithoutSaRestartCarriesTheSignal()
    {
        var run = WhyfailRunner.Run("--", P("restart_read"), "norestart");
        Assert.True(run.ExitCode == 0, run.ToString());
        var ev = Assert.Single(run.Failures("read", "EINTR"));
        Assert.Equal("ERESTARTSYS", ev.GetProperty("kernel_errno").GetString());
        Assert.Equal(-4, ev.GetProperty("ret").GetInt64());
        Assert.Contains(ev.GetProperty("explanation").EnumerateArray(), x => x.GetProperty("rule").GetString() == "signal.interrupted");
        var sig = Assert.Single(ev.GetProperty("evidence").EnumerateArray(), x => x.GetProperty("kind").GetString() == "signal");
        Assert.False(sig.GetProperty("sa_restart").GetBoolean());
        Assert.StartsWith("0x", sig.GetProperty("handler").GetString());
    }

    [Fact]
    public void PathWithEscapeSequenceIsEscapedInTextAndJson()
    {
        string path = "/nonexistent-whyfail/\u001b[31mred\u001b]0;title\u0007";
        var (code, text, _) = WhyfailRunner.RunText("--color", "never", "--", P("open_missing"), path);
        Assert.Equal(1, code);
        Assert.DoesNotContain('\u001b', text);
        Assert.DoesNotContain('\u0007', text);
        Assert.Contains(@"\33[31mred\33]0;title\7", text);

        var run = WhyfailRunner.Run("--", P("open_missing"), path);
        var ev = Assert.Single(run.Failures("openat", "ENOENT"));
        Assert.DoesNotContain('\u001b', ev.GetProperty("args")[1].GetString()!);
    }

    [Fact]
    public void SyscallAndErrnoFiltersWithClearErrors()
    {
        var bad = WhyfailRunner.Run("--syscall", "opnat", "--", "/bin/true");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("unknown syscall 'opnat'", bad.Stderr);
        Assert.Contains("openat", bad.Stderr);

        var badErrno = WhyfailRunner.Run("--errno", "ENOENTT", "--", "/bin/true");
        Assert.Equal(2, badErrno.ExitCode);
        Assert.Contains("ENOENT", badErrno.Stderr);

        string path = Uniq("filter");
        var run = WhyfailRunner.Run("--syscall", "%file", "--errno", "ENOENT", "--", P("open_missing"), path);
        Assert.NotEmpty(run.Syscalls);
        Assert.All(run.Syscalls, e => Assert.Equal("ENOENT", e.GetProperty("errno").GetString()));
    }

    [Fact]
    public void UnknownOptionsAreUsageErrorsNotCommands()
    {
        var bogus = WhyfailRunner.Run("--bogus", "--", "/bin/true");
        Assert.Equal(2, bogus.ExitCode);
        Assert.Contains("unknown option '--bogus'", bogus.Stderr);
        Assert.DoesNotContain("command not found", bogus.Stderr);

        // A command's own option before -- is named with the way to pass it.
        var noDashDash = WhyfailRunner.Run("ls", "-l", "/");
        Assert.Equal(2, noDashDash.ExitCode);
        Assert.Contains("unknown option '-l'", noDashDash.Stderr);
        Assert.Contains("after --", noDashDash.Stderr);

        // The command's own options after -- are its own, even when whyfail has one of the same name before -- (Run
        // passes whyfail's own -o FILE).
        var sameName = WhyfailRunner.Run("--", "/bin/echo", "-o", "x", "--", "-e");
        Assert.Equal(0, sameName.ExitCode);
        Assert.DoesNotContain("unknown option", sameName.Stderr);
        Assert.Contains("-o x -- -e", sameName.Stdout);

        var missingValue = WhyfailRunner.Run("--syscall");
        Assert.Equal(2, missingValue.ExitCode);
        Assert.Contains("whyfail: ", missingValue.Stderr);
    }

    [Theory]
    [InlineData("2G", "'2G' is more than the largest ring buffer, 1G")]
    [InlineData("100", "'100' is less than the smallest ring buffer, 4K")]
    [InlineData("lots", "'lots' is not a size")]
    public void BufferSizesOutsideTheRangeAreRefusedByName(string size, string message)
    {
        var run = WhyfailRunner.Run("--buffer-size", size, "--", "/bin/true");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--buffer-size: " + message, run.Stderr);
    }

    [Theory]
    [InlineData("graph", "whyfail graph [<command>...] [options]", "The command to run and record")]
    [InlineData("doctor", "whyfail doctor [options]", null)]
    [InlineData("errno", "whyfail errno <errno>... [options]", "Names or numbers")]
    public void SubcommandHelpShowsOnlyItsOwnUsageAndArguments(string sub, string usage, string? argument)
    {
        using var p = Process.Start(WhyfailRunner.StartInfo([sub, "--help"]))!;
        string help = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
        // The program's name is the binary's (the lab runs a copy named whyfail-native).
        Assert.Matches($@"Usage:\n  \S*{System.Text.RegularExpressions.Regex.Escape(usage["whyfail".Length..])}\n", help);
        // The root's own "-- COMMAND" argument is not the subcommand's.
        Assert.DoesNotContain("The command to run and trace", help);
        if (argument != null) Assert.Contains(argument, help);
    }

    [Fact]
    public void SystemModeSeesAnUnrelatedProcess()
    {
        string path = Uniq("system");
        // A uniquely named copy of the failing program, started outside whyfail.
        string name = "wf" + Guid.NewGuid().ToString("N")[..10];
        string copy = Path.Combine(Path.GetTempPath(), name);
        File.Copy(P("open_missing"), copy);
        try
        {
            var run = WhyfailRunner.Run(["--system", "--comm", name], TimeSpan.FromMinutes(5), (whyfail, output) =>
            {
                WaitForAttach(whyfail, output);
                using (var p = Process.Start(new ProcessStartInfo(copy) { ArgumentList = { path }, RedirectStandardOutput = true })!)
                    p.WaitForExit();
                // Another command name fails too: the kernel drops it (--comm is applied before an event is built).
                using (var p = Process.Start(new ProcessStartInfo(P("open_missing")) { ArgumentList = { path + "-other" }, RedirectStandardOutput = true })!)
                    p.WaitForExit();
                Thread.Sleep(300);
                // SIGTERM, not SIGINT: a test run started in the background (as `test.sh &` in a script) has SIGINT
                // ignored, whyfail inherits that and, like any well-behaved background job, keeps it ignored.
                Process.Start("kill", ["-TERM", whyfail.Id.ToString()])!.WaitForExit();
            });
            Assert.True(run.ExitCode == 0, run.ToString());
            var ev = Assert.Single(run.Failures("openat", "ENOENT"), e => e.GetProperty("args")[1].GetString() == $"\"{path}\"");
            Assert.Equal(name, ev.GetProperty("comm").GetString());
            // Every event that reached user space was shown: none of another command was even captured.
            Assert.All(run.Syscalls, e => Assert.Equal(name, e.GetProperty("comm").GetString()));
            Assert.Equal(run.Syscalls.Count(), Summary(run).GetProperty("reported").GetInt32());
        }
        finally
        {
            File.Delete(copy);
        }
    }

    private static System.Text.Json.JsonElement Summary(WhyfailRun run) => Assert.Single(run.Lines, l => l.GetProperty("type").GetString() == "summary");

    /// <summary>
    /// --syscall and --errno are applied in the kernel as well: the events that reach user space (the summary's
    /// "reported") are exactly those shown, not every failure of the command.
    /// </summary>
    [Fact]
    public void SyscallAndErrnoFiltersApplyInTheKernel()
    {
        var run = WhyfailRunner.Run("--syscall", "statx,openat", "--errno", "ENOENT", "--", "/bin/ls", Uniq("ls"));
        Assert.True(run.ExitCode == 2, run.ToString());
        var shown = run.Syscalls.ToList();
        Assert.Contains(shown, e => e.GetProperty("syscall").GetString() == "statx");
        Assert.All(shown, e => Assert.True(e.GetProperty("syscall").GetString() is "statx" or "openat" && e.GetProperty("errno").GetString() == "ENOENT"));
        Assert.Equal(shown.Count, Summary(run).GetProperty("reported").GetInt32());
        // Without the filters the same command fails more often (access, ioctl, …): the filters dropped those.
        var all = WhyfailRunner.Run("--", "/bin/ls", Uniq("ls"));
        Assert.True(Summary(all).GetProperty("reported").GetInt32() > shown.Count, all.ToString());
    }

    [Fact]
    [Trait("lab", "skip")] // a million events under QEMU's software CPU takes too long; the host runs it
    public void FloodOfAMillionFailuresIsReportedOrCountedAsLost()
    {
        const int n = 1_000_000;
        string outFile = Path.Combine(Path.GetTempPath(), $"whyfail-flood-{Guid.NewGuid():N}.jsonl");
        try
        {
            var psi = WhyfailRunner.StartInfo(["--json", "-o", outFile, "--no-explain", "--syscall", "openat", "--", P("flood"), n.ToString()]);
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            Assert.True(p.WaitForExit(TimeSpan.FromMinutes(10)), "whyfail did not finish the flood within 10 minutes");
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, stderr.Result);
            Assert.Equal(n, long.Parse(stdout.Result.Trim()));
            // Stream the (large) output: count the flood's events, parse only the summary.
            long reported = 0;
            JsonElement? summary = null;
            foreach (var line in File.ReadLines(outFile))
            {
                if (line.StartsWith("{\"type\":\"syscall\"") && line.Contains("whyfail-flood")) reported++; // not the verdict, which names the path too
                else if (line.StartsWith("{\"type\":\"summary\"")) summary = JsonDocument.Parse(line).RootElement.Clone();
            }
            Assert.NotNull(summary);
            long lost = summary.Value.GetProperty("lost").GetInt64();
            // The few other failing openat calls (the dynamic loader's) happen before the flood, when
            // the ring buffer is empty, so every lost event is one of the flood's.
            Assert.Equal(n, reported + lost);
        }
        finally
        {
            File.Delete(outFile);
        }
    }
}
