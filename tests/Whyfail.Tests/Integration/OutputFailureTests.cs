using System.Diagnostics;
using Whyfail.Tests.Explain;
using Xunit;

namespace Whyfail.Tests.Integration;

/// <summary>
/// When the report cannot be written (a full disk for -o, standard error on /dev/full), whyfail stops
/// tracing, lets the command finish untraced, says why, and exits 6: never a crash halfway through a line
/// with the probes still attached. The full disk is a real 64 KiB tmpfs.
/// </summary>
[Collection("tracing")]
public sealed class OutputFailureTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("wf-full-");

    public OutputFailureTests() => Sh.Run("mount", "-t", "tmpfs", "-o", "size=64k", "wf-full", _dir.FullName);

    private static (int ExitCode, string Stderr) Run(string shell)
    {
        var psi = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(shell);
        // "$@" in the script is whyfail (the native binary, or dotnet exec whyfail.dll).
        var whyfail = WhyfailRunner.StartInfo([]);
        psi.ArgumentList.Add("sh");
        psi.ArgumentList.Add(whyfail.FileName);
        foreach (var a in whyfail.ArgumentList) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(3)), "whyfail did not finish");
        return (p.ExitCode, stderr.Result);
    }

    [Theory]
    [InlineData("--json")]
    // --routine: flood recovers from every failure and exits 0, so by default its failures fold into one line.
    [InlineData("--no-explain --routine")]
    public void AFullDiskStopsTheReportNotTheCommand(string format)
    {
        string output = Path.Combine(_dir.FullName, "report");
        string done = Path.Combine(Path.GetTempPath(), $"wf-full-done-{Guid.NewGuid():N}");
        try
        {
            // 20000 failures: megabytes of report, more than fits; the command then runs on for 3 s and leaves proof it ran to its end.
            var (code, stderr) = Run($"\"$@\" {format} -o {output} -- /bin/sh -c '{WhyfailRunner.Program("flood")} 20000 && sleep 3 && touch {done}'");
            Assert.True(code == 6, $"exit {code}: {stderr}");
            Assert.Contains($"whyfail: cannot write to {output}: No space left on device; stopped tracing, waiting for the command to finish untraced", stderr);
            Assert.Contains($"whyfail: cannot write to {output}: No space left on device; the report is incomplete", stderr);
            Assert.DoesNotContain("Unhandled exception", stderr);
            Assert.True(File.Exists(done), "the command did not run to its end");
            Assert.True(new FileInfo(output).Length > 32 * 1024, "the report was not written up to the full disk");
        }
        finally
        {
            File.Delete(done);
        }
    }

    [Fact]
    public void StandardErrorOnDevFullIsExit6NotACrash()
    {
        var (code, _) = Run("\"$@\" -- /bin/ls /nonexistent-whyfail 2>/dev/full");
        Assert.Equal(6, code);
        (code, _) = Run("\"$@\" --json -- /bin/ls /nonexistent-whyfail 2>/dev/full");
        Assert.Equal(6, code);
    }

    public void Dispose()
    {
        Sh.Run("umount", _dir.FullName);
        _dir.Delete(true);
    }
}
