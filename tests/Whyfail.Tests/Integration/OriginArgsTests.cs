using System.Text.Json;
using Whyfail.Capture.Origin;
using Whyfail.Tests.Graph;
using Xunit;

namespace Whyfail.Tests.Integration;

/// <summary>A fact that needs one origin backend (the lab kernels have them; the locked-down host has none): skipped visibly otherwise.</summary>
public sealed class FactRequiringOriginBackendAttribute : FactAttribute
{
    /// <param name="backend">A backend's name, or "any".</param>
    public FactRequiringOriginBackendAttribute(string backend)
    {
        OriginBackends.TryParse(backend, out var b);
        var candidates = OriginBackends.Candidates(out var whyNone);
        if (backend == "any" ? candidates.Count == 0 : !candidates.Contains(b))
            Skip = $"needs the {backend} origin backend, which this kernel does not offer ({whyNone ?? "offers: " + string.Join(", ", candidates.Select(OriginBackends.Describe))})";
    }
}

/// <summary>A fact for a kernel where no origin backend exists (this project's host); skipped visibly where one does.</summary>
public sealed class FactWithoutOriginBackendAttribute : FactAttribute
{
    public FactWithoutOriginBackendAttribute()
    {
        if (OriginBackends.Candidates(out _).Count > 0)
            Skip = "checks the refusal of --args on a kernel without kprobes or fexit; this one has an origin backend";
    }
}

/// <summary>
/// --args (issue 20, point 4): a real openat of a missing path, traced with each origin backend the kernel offers;
/// the functions of the origin chain carry their BTF-typed arguments — do_sys_openat2's dfd and filename are the
/// call's own. One whyfail run per backend (the call graph cut to a few dozen functions: cheap in the lab).
/// </summary>
[Collection("tracing")]
[Trait("suite", "integration")]
public class OriginArgsTests
{
    private static readonly TimeSpan Slow = TimeSpan.FromMinutes(5);

    private static string[] Args(string backend, string path) =>
        ["--args", "--backend", backend, "--deep", "openat", "--deep-budget", "40", "--", WhyfailRunner.Program("open_missing"), path];

    private static string MissingPath() => $"/nonexistent-whyfail-{Guid.NewGuid():N}/x";

    /// <summary>The JSON origin of the failing openat: chain and chain_args parallel, do_sys_openat2's arguments the call's.</summary>
    private static void CheckJson(string backend)
    {
        string path = MissingPath();
        var run = WhyfailRunner.Run(Args(backend, path), Slow);
        Assert.True(run.ExitCode == 1, run.ToString());
        var ev = Assert.Single(run.Failures("openat", "ENOENT"), e => e.GetProperty("args")[1].GetString() == $"\"{path}\"");
        var o = ev.GetProperty("origin");
        Assert.True(o.ValueKind == JsonValueKind.Object, $"no origin: {ev}");
        Assert.Equal(backend, o.GetProperty("backend").GetString());
        var chain = o.GetProperty("chain").EnumerateArray().Select(e => e.GetString()!).ToList();
        var args = o.GetProperty("chain_args").EnumerateArray().ToList();
        Assert.Equal(chain.Count, args.Count);
        int at = chain.IndexOf("do_sys_openat2");
        Assert.True(at >= 0, $"do_sys_openat2 not in the chain: {string.Join(", ", chain)}");
        Assert.Equal(JsonValueKind.Array, args[at].ValueKind);
        var named = args[at].EnumerateArray().ToDictionary(a => a.GetProperty("name").GetString()!, a => a);
        Assert.Equal("-100", named["dfd"].GetProperty("value").GetString()); // AT_FDCWD
        Assert.Equal($"\"{path}\"", named["filename"].GetProperty("value").GetString());
        // struct open_how *: read one level deep; O_RDONLY|O_CLOEXEC in its flags.
        var how = named["how"];
        Assert.StartsWith("0xffff", how.GetProperty("value").GetString());
        var flags = how.GetProperty("members").EnumerateArray().Single(m => m.GetProperty("name").GetString() == "flags").GetProperty("value").GetString()!;
        Assert.Equal(0x80000UL, Convert.ToUInt64(flags, 16) & 0x80000UL);
        // path_openat's struct nameidata *, one level deep (its members named), where it is on the chain.
        int po = chain.IndexOf("path_openat");
        if (po >= 0 && args[po].ValueKind == JsonValueKind.Array)
            Assert.Contains(args[po].EnumerateArray(), a => a.GetProperty("name").GetString() == "nd" && a.TryGetProperty("members", out var m) && m.GetArrayLength() > 0);
    }

    [FactRequiringOriginBackend("fexit")]
    public void FexitChainCarriesTheCallsArgumentsInJson() => CheckJson("fexit");

    [FactRequiringOriginBackend("kretprobe.multi")]
    public void KretprobeMultiChainCarriesTheCallsArgumentsInJson() => CheckJson("kretprobe.multi");

    /// <summary>Text: one "args:" line per chain function under the origin line; kretprobe's arguments come from its entry probe.</summary>
    [FactRequiringOriginBackend("kretprobe")]
    public void KretprobeChainArgumentsAreOneLinePerFunctionInText()
    {
        string path = MissingPath();
        var (code, text, stderr) = WhyfailRunner.RunText(Args("kretprobe", path), Slow);
        Assert.True(code == 1, $"exit {code}\n{text}\n{stderr}");
        var lines = text.Split('\n');
        int origin = Array.FindIndex(lines, l => l.TrimStart().StartsWith("origin:", StringComparison.Ordinal) && l.Contains("[kretprobe"));
        Assert.True(origin >= 0, text);
        var argLines = lines.Skip(origin + 1).TakeWhile(l => l.TrimStart().StartsWith("args:", StringComparison.Ordinal)).ToList();
        Assert.Contains(argLines, l => l.Contains($"do_sys_openat2(dfd=-100, filename=\"{path}\", how=0xffff"));
        // The chain's functions in its order, each on its own line.
        Assert.True(argLines.Count >= 2, text);
    }

    /// <summary>
    /// whyfail graph --args: the error path's nodes whose error return was recorded carry their arguments, and only they.
    /// perf_event_open with undefined branch_sample_type bits (the seed's example): perf_copy_attr's attr, read one level
    /// deep at its return, holds the bits the program set.
    /// </summary>
    [FactRequiringOriginBackend("any")]
    public void GraphErrorPathNodesCarryTheirArguments()
    {
        var run = GraphRunner.Run(["--syscall", "perf_event_open", "--args", "--deep-budget", "20", "--json", "--", WhyfailRunner.Program("perf_bad_branch")], Slow);
        Assert.True(run.ExitCode == 0, run.ToString());
        var graph = Assert.Single(run.Graphs);
        var calls = GraphRunner.Calls(graph.GetProperty("tree")).ToList();
        var withArgs = calls.Where(c => c.TryGetProperty("args", out _)).ToList();
        Assert.All(withArgs, c => Assert.True(c.TryGetProperty("error_path", out var e) && e.GetBoolean(), $"args off the error path: {c.GetProperty("function")}"));
        var copy = Assert.Single(withArgs, c => c.GetProperty("function").GetString() == "perf_copy_attr");
        var attr = copy.GetProperty("args").EnumerateArray().Single(a => a.GetProperty("name").GetString() == "attr");
        var members = attr.GetProperty("members").EnumerateArray().ToDictionary(m => m.GetProperty("name").GetString()!, m => m.GetProperty("value").GetString());
        Assert.Equal("0x4000000000000008", members["branch_sample_type"]); // PERF_SAMPLE_BRANCH_ANY | 1 << 62
        Assert.Equal("1", members["type"]);                               // PERF_TYPE_SOFTWARE
    }

    /// <summary>Where no origin backend exists (this project's host): --args is refused plainly (exit 4), before the command runs.</summary>
    [FactWithoutOriginBackend]
    public void WithoutKprobesOrFexitArgsSaysWhatItNeeds()
    {
        string marker = Path.Combine(Path.GetTempPath(), $"whyfail-args-{Guid.NewGuid():N}");
        var run = WhyfailRunner.Run(["--args", "--deep", "openat", "--", "/bin/sh", "-c", $"touch {marker}"], TimeSpan.FromMinutes(1));
        Assert.True(run.ExitCode == 4, run.ToString());
        Assert.Contains("--args", run.Stderr);
        Assert.Contains("needs kernel origins: kprobes or fexit", run.Stderr);
        Assert.False(File.Exists(marker), "the command ran although --args was refused");
    }
}
