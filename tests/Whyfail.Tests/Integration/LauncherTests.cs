using System.Diagnostics;
using Xunit;

namespace Whyfail.Tests.Integration;

/// <summary>
/// The launcher runs the command as whyfail's grandchild (so its seccomp filters can be read with a ptrace stop the
/// .NET runtime does not reap): the command's own failures, exit status, death by signal and forwarded signals all
/// still come through.
/// </summary>
[Collection("tracing")]
[Trait("suite", "integration")]
public class LauncherTests
{
    [Fact]
    public void The_command_is_traced_from_its_first_call_also_without_follow()
    {
        var path = $"/nonexistent-whyfail-{Guid.NewGuid():N}";
        var run = WhyfailRunner.Run("--no-follow", "--", WhyfailRunner.Program("open_missing"), path);
        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains(run.Failures("openat", "ENOENT"), e => e.GetProperty("args")[1].GetString() == $"\"{path}\"");
        // the command's own exec is its first traced call: no failure of the launcher is reported
        Assert.DoesNotContain(run.Syscalls, e => e.GetProperty("comm").GetString() == "whyfail");
    }

    [Fact]
    public void Sigterm_to_whyfail_reaches_the_command_and_its_death_is_the_exit_status()
    {
        var run = WhyfailRunner.Run(["--", "/bin/sh", "-c", "echo started; exec sleep 60"], TimeSpan.FromMinutes(2), (p, _) =>
        {
            // wait until the command runs, then ask whyfail to stop
            var sw = Stopwatch.StartNew();
            while (sw.Elapsed < TimeSpan.FromSeconds(60) && !Process.GetProcessesByName("sleep").Any(s => Parent(s.Id) is { } m && Parent(m) == p.Id))
                Thread.Sleep(50);
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(60), "the command did not start");
            Process.Start("kill", ["-TERM", p.Id.ToString()])!.WaitForExit();
        });
        Assert.True(run.ExitCode == 128 + 15, run.ToString());
    }

    [Fact]
    public void Seccomp_filters_of_the_command_itself_are_read()
    {
        var run = WhyfailRunner.Run(["--", WhyfailRunner.Program("seccomp_deny"), "direct"], TimeSpan.FromMinutes(3), (p, outFile) =>
        {
            // it answers pings until its standard input ends: end it once whyfail has reported the mkdir failures
            var sw = Stopwatch.StartNew();
            while (sw.Elapsed < TimeSpan.FromSeconds(90) && !(File.Exists(outFile) && File.ReadAllText(outFile).Split('\n').Count(l => l.Contains("\"mkdir\"")) >= 2))
                Thread.Sleep(50);
            p.StandardInput.Close();
        });
        var ev = Assert.Single(run.Failures("mkdir", "EPERM"));
        var why = Assert.Single(ev.GetProperty("explanation").EnumerateArray(), x => x.GetProperty("rule").GetString() == "seccomp.blocked");
        Assert.Contains("ERRNO(1)", why.GetProperty("text").GetString());
        Assert.Contains(run.Failures("mkdir", "EACCES"), e => e.GetProperty("explanation").EnumerateArray().Any(x => x.GetProperty("rule").GetString() == "seccomp.blocked"));
    }

    private static int? Parent(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return int.Parse(f[1]);
        }
        catch (IOException) { return null; }
    }
}
