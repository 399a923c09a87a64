using System.Text.Json;
using Whyfail.Analysis.Origin.Kernel;
using Whyfail.Analysis.Origin.Source;
using Whyfail.Tests.Integration;
using Xunit;

namespace Whyfail.Tests.Source;

/// <summary>
/// The degraded path on this project's host (no debug vmlinux installed, no kernel origins): what is
/// missing is said plainly, with the package that provides it; wrong files are refused with the reason.
/// </summary>
[Collection("tracing")]
[Trait("kernel", "host")]
public class DebugInfoHostTests
{
    private static readonly string Release = KernelBuildId.Release();

    private static void RequireNoDebugVmlinux()
    {
        foreach (var p in DebugInfoLocator.Candidates(Release, KernelBuildId.FromNotes()))
            Assert.False(File.Exists(p), $"{p} exists: this test is about a machine without debug info");
    }

    [Fact]
    public void WithoutADebugVmlinuxTheMessageNamesThePackage()
    {
        RequireNoDebugVmlinux();
        Assert.Null(DebugInfoLocator.Find(null, null, out var missing, useDebuginfod: false));
        Assert.Contains($"no debug vmlinux for {Release}", missing);
        Assert.Contains($"linux-image-{Release}-dbg", missing);
    }

    [Fact]
    public void AFileOfAnotherBuildOrWithoutDwarfIsRefusedWithTheReason()
    {
        string notKernel = "/usr/bin/true";
        Assert.Null(DebugInfoLocator.Find(notKernel, null, out var missing));
        Assert.Contains(notKernel, missing);
        Assert.True(missing!.Contains("another kernel build") || missing.Contains("no DWARF"), missing);
        Assert.Null(DebugInfoLocator.Find("/nonexistent/vmlinux", null, out missing));
        Assert.Contains("/nonexistent/vmlinux does not exist", missing);
    }

    [Fact]
    public void DoctorSaysDebugInfoIsMissingAndWhereToGetIt()
    {
        RequireNoDebugVmlinux();
        var psi = WhyfailRunner.StartInfo(["doctor", "--json"]);
        using var p = System.Diagnostics.Process.Start(psi)!;
        string json = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        var row = JsonDocument.Parse(json).RootElement.GetProperty("debug info");
        Assert.False(row.GetProperty("ok").GetBoolean());
        Assert.Contains($"linux-image-{Release}-dbg", row.GetProperty("detail").GetString());
    }

    /// <summary>
    /// A symbolizer child that dies (the OOM killer, in a small machine with a large debug vmlinux) ends source
    /// lines with a reason, not silently: later queries answer nothing and Failure says what happened.
    /// </summary>
    [Fact]
    public void ASymbolizerKilledMidSessionSaysSo()
    {
        using var sym = Symbolizer.Start("/usr/bin/true", out var whyNot);
        Assert.True(sym != null, whyNot);
        Assert.Empty(sym.Symbolize(0x1000)); // alive, and no DWARF there
        Assert.Null(sym.Failure);
        using (var child = System.Diagnostics.Process.GetProcessById(((Symbolizer)sym).ChildPid))
        {
            child.Kill();
            child.WaitForExit();
        }
        Assert.Empty(sym.Symbolize(0x2000));
        Assert.Matches(@"^(llvm-symbolizer\S*|addr2line) was killed by signal 9 \(out of memory\?", sym.Failure);
    }

    [Fact]
    public void AMissingKernelSourceDirectoryIsAUsageError()
    {
        var (code, _, stderr) = WhyfailRunner.RunText("--kernel-src", "/nonexistent-whyfail-src", "--", "true");
        Assert.Equal(2, code);
        Assert.Contains("--kernel-src /nonexistent-whyfail-src: no such directory or tarball", stderr);
    }
}
