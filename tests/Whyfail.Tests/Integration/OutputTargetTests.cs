using System.Diagnostics;
using System.Text;
using Whyfail.Tests.Explain;
using Xunit;

namespace Whyfail.Tests.Integration;

/// <summary>
/// strace's habits for -o: /dev/null, a FIFO and other character devices are accepted (a symlink and a
/// hard-linked file are still refused), and SIGHUP reopens -o FILE of a session without a command, so that
/// logrotate can move the file away.
/// </summary>
[Collection("tracing")]
[Trait("suite", "integration")]
public class OutputTargetTests
{
    private static string Missing(string stem) => $"/nonexistent-whyfail/{stem}-{Guid.NewGuid():N}";

    private static Process Start(params string[] args)
    {
        var p = Process.Start(WhyfailRunner.StartInfo(args))!;
        p.StandardInput.Close();
        return p;
    }

    private static (int Code, string Stderr) Finish(Process p)
    {
        var stderr = p.StandardError.ReadToEndAsync();
        p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(3)), "whyfail did not finish");
        return (p.ExitCode, stderr.Result);
    }

    [Fact]
    public void DevNullIsAnOutput()
    {
        using var p = Start("-o", "/dev/null", "--", WhyfailRunner.Program("open_missing"), Missing("null"));
        var (code, stderr) = Finish(p);
        Assert.True(code == 1, $"exit {code}: {stderr}"); // open_missing's own status: one failed open
        Assert.DoesNotContain("whyfail:", stderr);
    }

    [Fact]
    public void DevFullIsAcceptedAndItsWriteErrorIsExit6()
    {
        using var p = Start("-o", "/dev/full", "--", WhyfailRunner.Program("open_missing"), Missing("full"));
        var (code, stderr) = Finish(p);
        Assert.True(code == 6, $"exit {code}: {stderr}");
        Assert.Contains("cannot write to /dev/full: No space left on device", stderr);
    }

    [Fact]
    public void AFifoGetsTheReportWhenItsReaderComes()
    {
        string fifo = Path.Combine(Path.GetTempPath(), $"wf-fifo-{Guid.NewGuid():N}");
        Sh.Run("mkfifo", fifo);
        try
        {
            string path = Missing("fifo");
            using var p = Start("-o", fifo, "--", WhyfailRunner.Program("open_missing"), path);
            // whyfail waits for a reader (as strace does); the reader reads until whyfail closes its end.
            string report = File.ReadAllText(fifo);
            var (code, stderr) = Finish(p);
            Assert.True(code == 1, $"exit {code}: {stderr}");
            Assert.Contains($"openat(AT_FDCWD, \"{path}\", O_RDONLY|O_CLOEXEC) = -1 ENOENT (No such file or directory)", report);
        }
        finally
        {
            File.Delete(fifo);
        }
    }

    [Fact]
    public void ASymlinkAndAHardLinkedFileAreStillRefused()
    {
        string dir = Directory.CreateTempSubdirectory("wf-out-").FullName;
        try
        {
            string target = Path.Combine(dir, "target"), link = Path.Combine(dir, "link"), hard = Path.Combine(dir, "hard");
            File.WriteAllText(target, "keep");
            File.CreateSymbolicLink(link, target);
            Sh.Run("ln", target, hard);
            using (var p = Start("-o", link, "--", "/bin/true"))
            {
                var (code, stderr) = Finish(p);
                Assert.Equal(6, code);
                Assert.Contains("it is a symbolic link, which whyfail never follows when writing", stderr);
            }
            using (var p = Start("-o", hard, "--", "/bin/true"))
            {
                var (code, stderr) = Finish(p);
                Assert.Equal(6, code);
                Assert.Contains("not a regular file with a single link, a character device or a FIFO", stderr);
            }
            Assert.Equal("keep", File.ReadAllText(target));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    /// <summary>logrotate's way: the file is renamed, whyfail gets SIGHUP, later lines go to a new file of the old name.</summary>
    [Fact]
    public void SighupReopensTheOutputOfASystemSession()
    {
        string dir = Directory.CreateTempSubdirectory("wf-rotate-").FullName;
        string name = "wfhup" + Guid.NewGuid().ToString("N")[..8];
        string copy = Path.Combine(dir, name), log = Path.Combine(dir, "whyfail.log"), rotated = log + ".1";
        File.Copy(WhyfailRunner.Program("open_missing"), copy);
        try
        {
            string before = Missing("before"), after = Missing("after");
            using var p = Start("--system", "--comm", name, "-o", log);
            WaitFor(p, log, "tracing every process on this machine");
            Assert.Contains($"report to {log} (SIGHUP reopens it)", File.ReadAllText(log));
            RunQuiet(copy, before);
            WaitFor(p, log, before);
            File.Move(log, rotated);
            Sh.Run("kill", "-HUP", p.Id.ToString());
            WaitFor(p, log, "reopened");
            RunQuiet(copy, after);
            WaitFor(p, log, after);
            Sh.Run("kill", "-TERM", p.Id.ToString());
            var (code, stderr) = Finish(p);
            Assert.True(code == 0, $"exit {code}: {stderr}");
            string old = File.ReadAllText(rotated), now = File.ReadAllText(log);
            Assert.Contains(before, old);
            Assert.DoesNotContain(after, old);
            Assert.Contains(after, now);
            Assert.DoesNotContain(before, now);
            Assert.Contains($"whyfail: reopened {log} on SIGHUP", now);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private static void RunQuiet(string program, string arg)
    {
        using var p = Process.Start(new ProcessStartInfo(program, [arg]) { RedirectStandardOutput = true })!;
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
    }

    /// <summary>Waits for the text in the file (two minutes: a bound for a loaded machine, not a latency).</summary>
    internal static void WaitFor(Process whyfail, string file, string text)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromMinutes(2))
        {
            if (whyfail.HasExited) throw new InvalidOperationException($"whyfail exited early: {whyfail.ExitCode}");
            if (File.Exists(file) && File.ReadAllText(file, Encoding.UTF8).Contains(text)) return;
            Thread.Sleep(100);
        }
        throw new TimeoutException($"{file} never contained {text}");
    }
}
