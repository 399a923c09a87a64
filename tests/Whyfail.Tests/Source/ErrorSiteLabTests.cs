using Whyfail.Analysis.Origin.Kernel;
using Whyfail.Analysis.Origin.Source;
using Xunit;

namespace Whyfail.Tests.Source;

/// <summary>
/// The exact-site finder and the symbolizer on the -dbg vmlinux of the lab kernel (Debian 6.1 and
/// 6.12): from (function, errno) to the line of the real source that returns it.
/// </summary>
[Trait("kernel", "lab")]
public sealed class ErrorSiteLabTests(LabSourceLines fixture) : IClassFixture<LabSourceLines>
{
    private readonly SourceLines _lines = fixture.Lines;

    [Fact]
    public void PidNsCtlHandlerHasOneEpermSiteAtItsCapabilityCheck()
    {
        var r = _lines.Sites.Find("pid_ns_ctl_handler", 1);
        Assert.NotNull(r);
        Assert.True(r.Kind == "exact", Describe(r));
        var site = r.Sites[0].Frames[0];
        Assert.Equal("kernel/pid_namespace.c", site.File);
        Assert.Equal(LabDebugInfo.LineAfter("kernel/pid_namespace.c", "static int pid_ns_ctl_handler(", "return -EPERM;"), site.Line);
        Assert.Equal("return -EPERM;", r.Sites[0].Text);
    }

    [Fact]
    public void PerfCopyAttrRejectsUndefinedBranchBitsAtItsEinval()
    {
        var r = _lines.Sites.Find("perf_copy_attr", 22);
        Assert.NotNull(r);
        int want = LabDebugInfo.LineAfter("kernel/events/core.c", "if (mask & ~(PERF_SAMPLE_BRANCH_MAX-1))", "return -EINVAL;");
        Assert.True(r.Sites.Any(s => s.Frames[0].File == "kernel/events/core.c" && s.Frames[0].Line == want), $"line {want} not in {Describe(r)}");
        Assert.All(r.Sites, s => Assert.Contains("EINVAL", s.Text));
    }

    [Fact]
    public void StepIntoProducesEnoentInTheInlinedPathWalk()
    {
        var r = SitesOnLinesNaming("step_into", 2, "fs/namei.c", "-ENOENT");
        // The constant is in a function inlined into step_into (handle_mounts and friends): the frames say so.
        Assert.True(r.Sites.Any(s => s.Frames.Count > 1 && s.Frames[0].Inlined && s.Frames[^1].Function == "step_into"), Describe(r));
    }

    [Fact]
    public void WalkComponentHasNoEnoentOfItsOwnSoItsCalleesAreTheCandidates()
    {
        // walk_component returns what step_into (a separate function on these kernels) produced.
        var r = SitesOnLinesNaming("walk_component", 2, "fs/namei.c", "-ENOENT");
        Assert.Contains(r.Sites, s => s.Frames[^1].Function == "step_into");
    }

    [Fact]
    public void GenericPermissionsEaccesSitesAreItsEaccesReturns()
    {
        var r = SitesOnLinesNaming("generic_permission", 13, "fs/namei.c", "-EACCES");
        Assert.Equal(r.Sites.Count == 1 ? "exact" : "candidates", r.Kind);
    }

    [Fact]
    public void AFunctionThatIsNotInTheVmlinuxHasNoSites() =>
        Assert.Null(_lines.Sites.Find("no_such_function_whyfail", 1));

    /// <summary>The sites of (function, errno): at least one, each in <paramref name="file"/> on a real line containing <paramref name="text"/>.</summary>
    private ErrorSiteResult SitesOnLinesNaming(string function, int errno, string file, string text)
    {
        var r = _lines.Sites.Find(function, errno);
        Assert.NotNull(r);
        Assert.True(r.Sites.Count > 0, Describe(r));
        var lines = File.ReadAllLines(Path.Combine(LabDebugInfo.SourceDir, file));
        Assert.All(r.Sites, s =>
        {
            Assert.Equal(file, s.Frames[0].File);
            Assert.Contains(text, lines[s.Frames[0].Line - 1]);
        });
        return r;
    }

    private static string Describe(ErrorSiteResult r) =>
        $"{r.Kind}: " + string.Join("; ", r.Sites.Select(s => $"+0x{s.Offset:x} {string.Join(" < ", s.Frames.Select(f => $"{f.Function} {f.File}:{f.Line}"))} [{s.Text}]"));
}

/// <summary>One symbolizer and one symbol table for all the tests of a class.</summary>
public sealed class LabSourceLines : IDisposable
{
    public SourceLines Lines { get; } = SourceLines.Open(new DebugInfo(LabDebugInfo.Vmlinux, null, 0, "test"), LabDebugInfo.SourceDir, null, out var missing)
        ?? throw new InvalidOperationException(missing);

    public void Dispose() => Lines.Dispose();
}
