using System.Diagnostics;
using System.Text.Json;
using Whyfail.Capture.Probe;
using Whyfail.Tests.Integration;
using Whyfail.Tests.Source;
using Xunit;
using Xunit.Abstractions;

namespace Whyfail.Tests.Probe;

/// <summary>A fact that needs kprobes (the lab kernels have them; the locked-down host does not).</summary>
public sealed class FactRequiringKprobesAttribute : FactAttribute
{
    public FactRequiringKprobesAttribute(bool present)
    {
        string? why = ProbeCapture.Unavailable();
        if (present && why != null) Skip = $"needs kprobes: {why}";
        if (!present && why == null) Skip = "checks the refusal on a kernel without kprobes; this one has them";
    }
}

/// <summary>A fact that needs the lab kernel's -dbg vmlinux and sources (tests/vm/fetch-debuginfo).</summary>
public sealed class FactRequiringLabDebugInfoAttribute : FactAttribute
{
    public FactRequiringLabDebugInfoAttribute()
    {
        if (!File.Exists(Path.Combine(LabDebugInfo.Dir, "vmlinux")) || !Directory.Exists(Path.Combine(LabDebugInfo.Dir, "src")))
            Skip = $"no debug info for {LabDebugInfo.Release} in {LabDebugInfo.Dir} (run tests/vm/fetch-debuginfo on the host)";
    }
}

/// <summary>`whyfail probe` run for real: the seed example in the lab kernels, the refusal on the locked-down host.</summary>
[Collection("tracing")]
public class ProbeTests(ITestOutputHelper output)
{
    private static (int Code, List<JsonElement> Lines, string Stderr) Probe(TimeSpan timeout, params string[] args)
    {
        string file = Path.Combine(Path.GetTempPath(), $"whyfail-probe-{Guid.NewGuid():N}.jsonl");
        try
        {
            var psi = WhyfailRunner.StartInfo(["probe", "--json", "-o", file, .. args]);
            using var p = Process.Start(psi)!;
            var err = p.StandardError.ReadToEndAsync();
            var stdout = p.StandardOutput.ReadToEndAsync();
            if (!p.WaitForExit(timeout))
            {
                p.Kill(true);
                throw new TimeoutException($"whyfail probe {string.Join(' ', args)}");
            }
            p.WaitForExit();
            var lines = File.Exists(file)
                ? File.ReadAllLines(file).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList() : [];
            return (p.ExitCode, lines, err.Result + stdout.Result);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>
    /// The seed of issue 20 (whythefail.stp's example): perf_event_open with undefined branch_sample_type bits,
    /// after one valid call; only the failing perf_copy_attr is reported, with the mask check's line and mask's value.
    /// One whyfail run for every assertion.
    /// </summary>
    [FactRequiringLabDebugInfo]
    [Trait("kernel", "lab")]
    public void PerfCopyAttrEinvalShowsTheMaskCheckAndTheValueOfMask()
    {
        Assert.Null(ProbeCapture.Unavailable());
        var sw = Stopwatch.StartNew();
        var (code, lines, stderr) = Probe(TimeSpan.FromMinutes(5), "perf_copy_attr", "--when", "ret == -EINVAL", "--lines", "--args",
            "--vmlinux", LabDebugInfo.Vmlinux, "--", WhyfailRunner.Program("perf_bad_branch"), "ok-first");
        output.WriteLine($"whyfail probe: {sw.Elapsed.TotalSeconds:0.0} s");
        foreach (var l in lines) output.WriteLine(l.ToString());
        Assert.True(code == 0, $"exit {code}: {stderr}");

        var call = Assert.Single(lines, l => l.GetProperty("type").GetString() == "probe_call");
        Assert.Equal("perf_copy_attr", call.GetProperty("function").GetString());
        Assert.Equal(-22, call.GetProperty("return").GetInt64());
        Assert.Equal("-22 (-EINVAL)", call.GetProperty("return_text").GetString());
        Assert.Equal(["uattr", "attr"], call.GetProperty("args").EnumerateArray().Select(a => a.GetProperty("name").GetString()!).Take(2));

        int check = LabDebugInfo.LineAfter("kernel/events/core.c", "if (mask & ~(PERF_SAMPLE_BRANCH_MAX-1))", "mask");
        var executed = call.GetProperty("lines").EnumerateArray().ToList();
        Assert.All(executed, l => Assert.Equal("kernel/events/core.c", l.GetProperty("file").GetString()));
        var atCheck = executed.Where(l => l.GetProperty("line").GetInt32() == check).ToList();
        Assert.True(atCheck.Count > 0, $"line {check} (the mask check) not among {string.Join(",", executed.Select(l => l.GetProperty("line").GetInt32()))}");
        // PERF_SAMPLE_BRANCH_ANY | 1 << 62, as the program set it.
        Assert.Contains(atCheck, l => l.GetProperty("locals").TryGetProperty("mask", out var m) && m.GetString() == "0x4000000000000008");
        // In order: the function's first line comes first, the check after it.
        Assert.True(executed[0].GetProperty("line").GetInt32() < check);

        var stats = Assert.Single(lines, l => l.GetProperty("type").GetString() == "probe_stats");
        Assert.Equal(2, stats.GetProperty("entries").GetInt64());             // the valid call and the bad one
        Assert.Equal(1, stats.GetProperty("exits_matching").GetInt64());
        Assert.Equal(1, stats.GetProperty("exits_not_matching").GetInt64());
        Assert.True(stats.GetProperty("lines_seen").GetInt64() >= executed.Count);
        Assert.True(stats.GetProperty("lines_probed").GetInt32() > 0);
        Assert.Equal(0, stats.GetProperty("lost").GetInt64());
    }

    /// <summary>On a kernel without kprobes (this project's host): a clear message, exit 4, and the doctor row.</summary>
    [FactRequiringKprobes(present: false)]
    [Trait("kernel", "host")]
    public void WithoutKprobesProbeIsRefusedWithExit4AndDoctorSaysSo()
    {
        var (code, lines, stderr) = Probe(TimeSpan.FromMinutes(1), "perf_copy_attr", "--when", "ret == -EINVAL", "--", WhyfailRunner.Program("perf_bad_branch"));
        Assert.True(code == 4, $"exit {code}: {stderr}");
        Assert.Contains("whyfail probe needs kprobes", stderr);
        Assert.Contains("this kernel has no kprobes", stderr);
        Assert.Empty(lines.Where(l => l.GetProperty("type").GetString() == "probe_call"));

        var psi = WhyfailRunner.StartInfo(["doctor", "--json"]);
        using var p = Process.Start(psi)!;
        var doctor = JsonDocument.Parse(p.StandardOutput.ReadToEnd()).RootElement;
        p.WaitForExit();
        var row = doctor.GetProperty("whyfail probe");
        Assert.False(row.GetProperty("ok").GetBoolean());
        Assert.Contains("no kprobes", row.GetProperty("detail").GetString());
    }

    [Fact]
    [Trait("kernel", "host")]
    public void UsageErrorsExitWith2()
    {
        var (code, _, stderr) = Probe(TimeSpan.FromMinutes(1), "perf_copy_attr", "--when", "ret == -EINVALL", "--", "true");
        Assert.True(code == 2, stderr);
        Assert.Contains("unknown error name 'EINVALL'", stderr);
        (code, _, stderr) = Probe(TimeSpan.FromMinutes(1), "perf_copy_attr");
        Assert.True(code == 2, stderr);
        Assert.Contains("nothing to watch", stderr);
    }
}
