using System.Text.Json;
using System.Text.RegularExpressions;
using Whyfail.Tests.Integration;
using Xunit;
using Xunit.Abstractions;

namespace Whyfail.Tests.Source;

/// <summary>
/// Source lines end to end in the lab kernels: real programs fail under whyfail with the Debian -dbg
/// vmlinux of the running kernel (--vmlinux) and its source files (--kernel-src); file and line are
/// checked against the source of that exact kernel version.
/// </summary>
[Collection("tracing")]
[Trait("kernel", "lab")]
public class SourceLineTests(ITestOutputHelper output)
{
    private static string P(string name) => WhyfailRunner.Program(name);
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(10);

    private static string[] WithDebugInfo(params string[] args) =>
        ["--vmlinux", Path.Combine(LabDebugInfo.Dir, "vmlinux"), "--kernel-src", LabDebugInfo.SourceDir, .. args];

    private static JsonElement Origin(JsonElement ev)
    {
        var o = ev.GetProperty("origin");
        Assert.True(o.ValueKind == JsonValueKind.Object, $"no origin in {ev}");
        return o;
    }

    private static List<(string File, int Line)> Sites(JsonElement o) =>
        o.GetProperty("sites").EnumerateArray().Select(s => (s.GetProperty("file").GetString()!, s.GetProperty("line").GetInt32())).ToList();

    /// <summary>A file in a new directory that only root may search (mode 0700).</summary>
    private static (DirectoryInfo Dir, string File) PrivateFile()
    {
        var dir = Directory.CreateTempSubdirectory("whyfail-src-");
        dir.UnixFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        string file = Path.Combine(dir.FullName, "f");
        File.WriteAllText(file, "x");
        return (dir, file);
    }

    [Fact]
    public void PerfCopyAttrsEinvalForUndefinedBranchBitsIsAmongItsSites()
    {
        var run = WhyfailRunner.Run(WithDebugInfo("--deep", "perf_event_open", "--", P("perf_bad_branch")), Long);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Single(run.Lines, l => l.GetProperty("type").GetString() == "notice" && l.GetProperty("text").GetString()!.StartsWith("source lines: "));
        var o = Origin(Assert.Single(run.Failures("perf_event_open", "EINVAL")));
        Assert.Equal("perf_copy_attr", o.GetProperty("function").GetString());
        Assert.Equal("kernel/events/core.c", o.GetProperty("file").GetString());
        int want = LabDebugInfo.LineAfter("kernel/events/core.c", "if (mask & ~(PERF_SAMPLE_BRANCH_MAX-1))", "return -EINVAL;");
        var sites = Sites(o);
        Assert.Contains(("kernel/events/core.c", want), sites);
        Assert.Equal(sites.Count == 1 ? "exact" : "candidates", o.GetProperty("site").GetString());
        // The chain's frames run parallel to the chain.
        Assert.Equal(o.GetProperty("chain").GetArrayLength(), o.GetProperty("chain_frames").GetArrayLength());
    }

    [Fact]
    public void EnoentOfAPathWalkPointsIntoFsNamei()
    {
        string path = $"/nonexistent-whyfail-{Guid.NewGuid():N}/x";
        var run = WhyfailRunner.Run(WithDebugInfo("--deep", "openat", "--", P("open_missing"), path), Long);
        Assert.True(run.ExitCode == 1, run.ToString());
        var ev = Assert.Single(run.Failures("openat", "ENOENT"), e => e.GetProperty("args")[1].GetString() == $"\"{path}\"");
        var o = Origin(ev);
        Assert.Equal("fs/namei.c", o.GetProperty("file").GetString());
        var sites = Sites(o);
        Assert.NotEmpty(sites);
        var namei = File.ReadAllLines(Path.Combine(LabDebugInfo.SourceDir, "fs/namei.c"));
        Assert.All(sites, s =>
        {
            Assert.Equal("fs/namei.c", s.File);
            Assert.Contains("-ENOENT", namei[s.Line - 1]);
        });
        // path_openat called inward from fs/namei.c too (the call line, with inlined frames when there are some).
        var chain = o.GetProperty("chain").EnumerateArray().Select(e => e.GetString()).ToList();
        int at = chain.IndexOf("path_openat");
        Assert.True(at > 0, string.Join(" ", chain));
        var frames = o.GetProperty("chain_frames")[at];
        Assert.True(frames.GetArrayLength() > 0, o.ToString());
        Assert.Equal("path_openat", frames[frames.GetArrayLength() - 1].GetProperty("function").GetString());
        Assert.All(frames.EnumerateArray(), f => Assert.Equal("fs/namei.c", f.GetProperty("file").GetString()));
    }

    [Fact]
    public void TextShowsTheOriginsFileAndLineAndItsSites()
    {
        var (code, text, stderr) = WhyfailRunner.RunText(Long, WithDebugInfo("--deep", "perf_event_open", "--", P("perf_bad_branch")));
        Assert.True(code == 0, stderr);
        Assert.Matches(@"origin: perf_copy_attr \(kernel/events/core\.c:\d+\)", text);
        int want = LabDebugInfo.LineAfter("kernel/events/core.c", "if (mask & ~(PERF_SAMPLE_BRANCH_MAX-1))", "return -EINVAL;");
        Assert.Matches($@"error sites? .*kernel/events/core\.c:{want}\b", text.Replace("… ", ""));
    }

    [Fact]
    public void EaccesAsNobodyShowsTheSiteInTheRealSource()
    {
        var (dir, file) = PrivateFile();
        try
        {
            var run = WhyfailRunner.Run(WithDebugInfo("--deep", "openat", "-u", "nobody", "--", P("open_missing"), file), Long);
            Assert.True(run.ExitCode == 1, run.ToString());
            var o = Origin(Assert.Single(run.Failures("openat", "EACCES")));
            Assert.Equal("fs/namei.c", o.GetProperty("file").GetString());
            var namei = File.ReadAllLines(Path.Combine(LabDebugInfo.SourceDir, "fs/namei.c"));
            var sites = Sites(o);
            Assert.NotEmpty(sites);
            Assert.All(sites, s => Assert.Contains("-EACCES", namei[s.Line - 1]));
            var snippet = o.GetProperty("snippet");
            if (o.GetProperty("site").GetString() != "exact")
            {
                Assert.Equal(JsonValueKind.Null, snippet.ValueKind);
                return;
            }
            // The snippet is the real source around the one site, the site's line marked.
            int line = snippet.GetProperty("line").GetInt32(), first = snippet.GetProperty("first_line").GetInt32();
            Assert.Equal(sites[0].Line, line);
            Assert.Equal(line - 3, first);
            Assert.Equal(namei[(first - 1)..(first + 6)], snippet.GetProperty("lines").EnumerateArray().Select(l => l.GetString()!).ToArray());
        }
        finally
        {
            dir.Delete(true);
        }
    }

    /// <summary>
    /// The seed's headline, `write(1, "123\n", 4) = -1 EPERM … kernel/pid_namespace.c:273`, on a stock kernel:
    /// nobody writes /proc/sys/kernel/ns_last_pid twice (write_file, the second write once whyfail watches the
    /// sysctl handlers). Both failures name pid_ns_ctl_handler in kernel/pid_namespace.c with its one
    /// `return -EPERM;` as the exact site and the code around it; the first is placed from the kernel stack
    /// (medium confidence), the second confirmed by the handler's return value (high). The README's example
    /// is the text run's output.
    /// </summary>
    private static readonly string[] SeedScenario =
        WithDebugInfo("--deep", "write", "-u", "nobody", "--", P("write_file"), "/proc/sys/kernel/ns_last_pid", "5", "2");

    private static int NsLastPidSiteLine => LabDebugInfo.LineAfter("kernel/pid_namespace.c", "static int pid_ns_ctl_handler(", "return -EPERM;");

    /// <summary>Sends write_file's second attempt once whyfail has started watching the handlers found on the stack.</summary>
    private static void SecondWriteOnceWatched(System.Diagnostics.Process whyfail, string outFile)
    {
        OriginTests.WaitForOutput(whyfail, outFile, "now also watching");
        if (!whyfail.HasExited)
        {
            whyfail.StandardInput.WriteLine();
            whyfail.StandardInput.Flush();
        }
    }

    [Fact]
    public void NsLastPidAsNobodyEndsAtTheReturnEpermOfPidNsCtlHandler()
    {
        int line = NsLastPidSiteLine;
        var source = File.ReadAllLines(Path.Combine(LabDebugInfo.SourceDir, "kernel/pid_namespace.c"));
        var run = WhyfailRunner.Run(SeedScenario, Long, SecondWriteOnceWatched);
        Assert.True(run.ExitCode == 2, run.ToString());
        var failures = run.Failures("write", "EPERM").ToList();
        Assert.True(failures.Count == 2, run.ToString());
        string[] confidence = ["medium", "high"];
        for (int i = 0; i < 2; i++)
        {
            var o = Origin(failures[i]);
            Assert.Equal("pid_ns_ctl_handler", o.GetProperty("function").GetString());
            Assert.Equal(confidence[i], o.GetProperty("confidence").GetString());
            Assert.Equal("kernel/pid_namespace.c", o.GetProperty("file").GetString());
            Assert.Equal("exact", o.GetProperty("site").GetString());
            Assert.Equal([("kernel/pid_namespace.c", line)], Sites(o));
            var snippet = o.GetProperty("snippet");
            Assert.Equal(line, snippet.GetProperty("line").GetInt32());
            int first = snippet.GetProperty("first_line").GetInt32();
            Assert.Equal(line - 3, first);
            Assert.Equal(source[(first - 1)..(first + 6)], snippet.GetProperty("lines").EnumerateArray().Select(l => l.GetString()!).ToArray());
        }
    }

    [Fact]
    public void NsLastPidAsNobodyShowsKernelPidNamespaceCAndTheMarkedLine()
    {
        int line = NsLastPidSiteLine;
        var (code, text, stderr) = WhyfailRunner.RunText(SeedScenario, Long, SecondWriteOnceWatched);
        output.WriteLine(text); // the README's example is this output
        Assert.True(code == 2, stderr + text);
        var writes = Regex.Matches(text, @"^\[pid \d+\] write\(3, ""5"", 1\) = -1 EPERM \(Operation not permitted\)$", RegexOptions.Multiline);
        Assert.True(writes.Count == 2, text);
        foreach (Match w in writes)
        {
            // The lines under each failing write, up to the next call or notice.
            var block = string.Join('\n', text[(w.Index + w.Length)..].Split('\n').Skip(1).TakeWhile(l => l.StartsWith("    ")));
            Assert.True(Regex.IsMatch(block, @"^    origin: pid_ns_ctl_handler(\+0x[0-9a-f]+)?\*? \(kernel/pid_namespace\.c:\d+\)", RegexOptions.Multiline), block);
            Assert.True(Regex.IsMatch(block, $@"^    error site: kernel/pid_namespace\.c:{line}  return -EPERM;  \(exact\)$", RegexOptions.Multiline), block);
            Assert.True(Regex.IsMatch(block, $@"^      > {line} \|\s+return -EPERM;$", RegexOptions.Multiline), block);
        }
    }

    [Fact]
    public void WithoutDebugInfoOneNoticeSaysWhatIsMissingAndTheFunctionStays()
    {
        // The lab machine has no /usr/lib/debug/boot/vmlinux-RELEASE: the degraded path.
        string release = LabDebugInfo.Release;
        Assert.False(File.Exists($"/usr/lib/debug/boot/vmlinux-{release}"), "this test needs a machine without the debug vmlinux");
        string path = $"/nonexistent-whyfail-{Guid.NewGuid():N}/x";
        var run = WhyfailRunner.Run(["--deep", "openat", "--", P("open_missing"), path], Long);
        Assert.True(run.ExitCode == 1, run.ToString());
        var notice = Assert.Single(run.Lines, l => l.GetProperty("type").GetString() == "notice" && l.GetProperty("text").GetString()!.Contains("source lines"));
        Assert.Contains($"linux-image-{release}-dbg", notice.GetProperty("text").GetString());
        var o = Origin(Assert.Single(run.Failures("openat", "ENOENT"), e => e.GetProperty("args")[1].GetString() == $"\"{path}\""));
        Assert.NotEqual("", o.GetProperty("function").GetString());
        Assert.Equal(JsonValueKind.Null, o.GetProperty("file").ValueKind);
        Assert.Equal(JsonValueKind.Null, o.GetProperty("site").ValueKind);
    }
}
