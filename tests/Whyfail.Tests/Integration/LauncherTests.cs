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

    /// <summary>
    /// whyfail itself under a ptrace tracer (strace -f, to debug whyfail): the launcher waits in read(2) for its go
    /// byte, not in a stop signal that a tracer would turn into a tracing stop, so the command runs and is traced.
    /// </summary>
    [Fact]
    public void Whyfail_under_strace_f_still_runs_and_traces_the_command()
    {
        var path = $"/nonexistent-whyfail-{Guid.NewGuid():N}";
        var whyfail = WhyfailRunner.StartInfo([]);
        var outFile = Path.Combine(Path.GetTempPath(), $"whyfail-test-{Guid.NewGuid():N}.jsonl");
        try
        {
            var psi = new ProcessStartInfo("strace") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { "-f", "-o", "/dev/null", whyfail.FileName }.Concat(whyfail.ArgumentList)
                         .Concat(["--json", "-o", outFile, "--", WhyfailRunner.Program("open_missing"), path]))
                psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var stderr = p.StandardError.ReadToEndAsync();
            p.StandardOutput.ReadToEnd();
            Assert.True(p.WaitForExit(TimeSpan.FromMinutes(3)), "whyfail under strace did not finish");
            Assert.True(p.ExitCode == 1, $"exit {p.ExitCode}: {stderr.Result}");
            var lines = File.ReadAllLines(outFile).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToList();
            Assert.Contains(lines, l => l.GetProperty("type").GetString() == "syscall" && l.GetProperty("syscall").GetString() == "openat"
                && l.GetProperty("errno").GetString() == "ENOENT" && l.GetProperty("args")[1].GetString() == $"\"{path}\"");
        }
        finally
        {
            File.Delete(outFile);
        }
    }

    /// <summary>The launcher runs the command only after the go byte; end of file (whyfail gone) means never.</summary>
    [Fact]
    public void The_launcher_runs_the_command_only_after_the_go_byte()
    {
        var marker = Path.Combine(Path.GetTempPath(), $"whyfail-launched-{Guid.NewGuid():N}");
        try
        {
            var whyfail = WhyfailRunner.StartInfo([]);
            string self = string.Join(' ', new[] { whyfail.FileName }.Concat(whyfail.ArgumentList).Select(a => $"'{a}'"));
            Assert.Equal(70, Sh($"{self} __launch 3 - /usr/bin/touch touch {marker} 3</dev/null"));
            Assert.False(File.Exists(marker), "the command ran without the go byte");
            Assert.Equal(0, Sh($"printf g | {self} __launch 3 - /usr/bin/touch touch {marker} 3<&0"));
            Assert.True(File.Exists(marker), "the command did not run after the go byte");
        }
        finally
        {
            File.Delete(marker);
        }
    }

    private static int Sh(string script)
    {
        using var p = Process.Start("/bin/sh", ["-c", script])!;
        p.WaitForExit();
        return p.ExitCode;
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
