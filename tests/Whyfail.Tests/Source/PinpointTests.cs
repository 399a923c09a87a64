using System.Text.Json;
using Whyfail.Tests.Integration;
using Xunit;

namespace Whyfail.Tests.Source;

/// <summary>
/// --pinpoint in the lab kernels: a program fails the same way several times where the origin
/// (perf_copy_attr, EINVAL) has many candidate sites; the first failure arms kprobes on them, and the
/// later ones must name the one check that really said no, on the line of that kernel's real source.
/// </summary>
[Collection("tracing")]
[Trait("kernel", "lab")]
public class PinpointLabTests
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(10);
    private const string CoreC = "kernel/events/core.c";

    /// <summary>perf_exec_flags fails once, waits for a line on its standard input, then fails three more times.</summary>
    private static string[] Args() =>
        ["--vmlinux", Path.Combine(LabDebugInfo.Dir, "vmlinux"), "--kernel-src", LabDebugInfo.SourceDir, "--pinpoint",
         "--deep", "perf_event_open", "--", WhyfailRunner.Program("perf_exec_flags"), "3"];

    /// <summary>The check this program really fails: remove_on_exec and enable_on_exec together.</summary>
    private static int ExecFlagsLine => LabDebugInfo.LineAfter(CoreC, "if (attr->remove_on_exec && attr->enable_on_exec)", "return -EINVAL;");

    /// <summary>Lets the program fail again once whyfail says the kprobes are armed (or after 8 minutes, to fail the test plainly).</summary>
    private static void OpenTheGateWhenArmed(System.Diagnostics.Process p, string outFile)
    {
        var until = DateTime.UtcNow + TimeSpan.FromMinutes(8);
        while (DateTime.UtcNow < until && !p.HasExited)
        {
            string text = "";
            try { text = File.ReadAllText(outFile); } catch (IOException) { }
            if (text.Contains("pinpoint: armed ") || text.Contains("pinpoint: the kernel refused")) break;
            Thread.Sleep(200);
        }
        if (!p.HasExited) p.StandardInput.WriteLine();
    }

    [Fact]
    public void LaterFailuresArePinpointedToTheCheckThatSaidNo()
    {
        var run = WhyfailRunner.Run(Args(), Long, OpenTheGateWhenArmed);
        Assert.True(run.ExitCode == 0, run.ToString());
        var failures = run.Failures("perf_event_open", "EINVAL").Select(e => e.GetProperty("origin")).ToList();
        Assert.True(failures.Count == 4, run.ToString());
        Assert.All(failures, o => Assert.Equal("perf_copy_attr", o.GetProperty("function").GetString()));

        // The first occurrence names the candidates (among them the right one) and arms the kprobes.
        var first = failures[0];
        Assert.Equal("candidates", first.GetProperty("site").GetString());
        Assert.False(first.GetProperty("pinpointed").GetBoolean());
        Assert.Contains((CoreC, ExecFlagsLine), Sites(first));
        var armed = Assert.Single(run.Lines, l => l.GetProperty("type").GetString() == "notice" && l.GetProperty("text").GetString()!.StartsWith("pinpoint: armed "));
        Assert.Contains("perf_copy_attr (EINVAL)", armed.GetProperty("text").GetString());

        // The later ones are pinpointed: one exact site, the real `return -EINVAL;` after the exec-flags test.
        var source = File.ReadAllLines(Path.Combine(LabDebugInfo.SourceDir, CoreC));
        Assert.Equal("return -EINVAL;", source[ExecFlagsLine - 1].Trim());
        foreach (var later in failures.Skip(1))
        {
            Assert.True(later.GetProperty("pinpointed").GetBoolean(), later.ToString());
            Assert.Equal("exact", later.GetProperty("site").GetString());
            Assert.Equal(new[] { (CoreC, ExecFlagsLine) }, Sites(later));
            Assert.Equal(CoreC, later.GetProperty("file").GetString());
            Assert.Equal(ExecFlagsLine, later.GetProperty("line").GetInt32());
            var snippet = later.GetProperty("snippet");
            Assert.Equal(ExecFlagsLine, snippet.GetProperty("line").GetInt32());
            Assert.Equal(source[ExecFlagsLine - 1], snippet.GetProperty("lines")[3].GetString());
        }
    }

    [Fact]
    public void TextSaysTheSiteWasPinpointedByKprobe()
    {
        var (code, text, stderr) = WhyfailRunner.RunText(Long, OpenTheGateWhenArmed, Args());
        Assert.True(code == 0, stderr);
        Assert.Matches(@"error sites \(\d+ candidates\): ", text);
        Assert.Matches($@"error site \(pinpointed by kprobe\): kernel/events/core\.c:{ExecFlagsLine}  return -EINVAL;\n", text);
        Assert.Matches($@"\n      > {ExecFlagsLine} \|\s+return -EINVAL;\n", text);
    }

    [Fact]
    public void WithoutDebugInfoPinpointSaysOnceThatItNeedsItAndTheRunGoesOn()
    {
        Assert.False(File.Exists($"/usr/lib/debug/boot/vmlinux-{LabDebugInfo.Release}"), "this test needs a machine without the debug vmlinux");
        var run = WhyfailRunner.Run(["--pinpoint", "--deep", "perf_event_open", "--", WhyfailRunner.Program("perf_exec_flags"), "0"], Long);
        Assert.True(run.ExitCode == 0, run.ToString());
        var notices = run.Lines.Where(l => l.GetProperty("type").GetString() == "notice").Select(l => l.GetProperty("text").GetString()!).ToList();
        Assert.Single(notices, n => n.StartsWith("--pinpoint needs debug info"));
        var o = Assert.Single(run.Failures("perf_event_open", "EINVAL")).GetProperty("origin");
        Assert.Equal("perf_copy_attr", o.GetProperty("function").GetString());
        Assert.False(o.GetProperty("pinpointed").GetBoolean());
    }

    private static List<(string File, int Line)> Sites(JsonElement o) =>
        o.GetProperty("sites").EnumerateArray().Select(s => (s.GetProperty("file").GetString()!, s.GetProperty("line").GetInt32())).ToList();
}

/// <summary>On a kernel without kprobes (this project's locked-down host), --pinpoint says so once and the run goes on.</summary>
[Collection("tracing")]
[Trait("kernel", "host")]
public class PinpointHostTests
{
    [Fact]
    public void WithoutKprobesPinpointSaysItIsUnavailableAndTheFailureIsStillReported()
    {
        bool kprobes = File.Exists("/sys/bus/event_source/devices/kprobe/type");
        var run = WhyfailRunner.Run("--pinpoint", "--deep", "perf_event_open", "--", WhyfailRunner.Program("perf_exec_flags"), "0");
        Assert.True(run.ExitCode == 0, run.ToString()); // perf_exec_flags' own status: unchanged by --pinpoint
        Assert.Single(run.Failures("perf_event_open", "EINVAL"));
        var notices = run.Lines.Where(l => l.GetProperty("type").GetString() == "notice").Select(l => l.GetProperty("text").GetString()!).ToList();
        if (!kprobes)
            Assert.Single(notices, n => n.StartsWith("--pinpoint is unavailable: this kernel has no kprobes"));
    }
}
