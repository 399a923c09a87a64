using System.Diagnostics;
using System.Text.RegularExpressions;
using Xunit;

namespace Whyfail.Tests.Graph;

/// <summary>
/// The HTML view in a real browser: a call graph recorded in the kernel lab (Debian 6.12, the
/// io_uring_setup failure of tests/programs/uring_bad_cpu.c, whose thread names itself with markup)
/// is rendered by the real whyfail (--input … --html) and loaded in headless Chromium; the DOM it
/// builds is checked. Host only: Chromium is not needed in the lab.
/// </summary>
[Trait("kernel", "host")]
public class GraphHtmlTests
{
    private static readonly string Recording = Path.Combine(AppContext.BaseDirectory, "Graph", "recordings", "uring_bad_cpu-6.12.jsonl");

    private static string? Chromium() =>
        new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists);

    private static string RenderedDom()
    {
        var html = Path.Combine(Path.GetTempPath(), $"whyfail-graph-{Guid.NewGuid():N}.html");
        try
        {
            var run = GraphRunner.Run(["--input", Recording, "--html"], TimeSpan.FromMinutes(1));
            Assert.True(run.ExitCode == 0, run.ToString());
            File.WriteAllText(html, run.Output);
            var chromium = Chromium() ?? throw new InvalidOperationException("chromium is not installed (./build.sh --deps installs it)");
            var psi = new ProcessStartInfo(chromium) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + Path.GetTempPath() + "whyfail-chromium", "--dump-dom", new Uri(html).AbsoluteUri })
                psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var dom = p.StandardOutput.ReadToEndAsync();
            var err = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(TimeSpan.FromMinutes(2)))
            {
                p.Kill(true);
                throw new TimeoutException("chromium --dump-dom did not finish");
            }
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, err.Result);
            return dom.Result;
        }
        finally
        {
            File.Delete(html);
        }
    }

    [Fact]
    public void TheErrorPathIsOpenAndMarkedAndTheProcessNameIsText()
    {
        string dom = RenderedDom();
        // The error path: every call on it is an open <details> (or a leaf) marked "err", from the syscall entry down.
        var errCalls = Regex.Matches(dom, "<details class=\"call err[^\"]*\"( open=\"\")?><summary>.*?<span class=\"fn\">([^<]*)</span>").ToList();
        Assert.NotEmpty(errCalls);
        Assert.All(errCalls, m => Assert.True(m.Groups[1].Success, $"error path call {m.Groups[2].Value} is collapsed"));
        Assert.Equal("__x64_sys_io_uring_setup()", errCalls[0].Groups[2].Value);
        Assert.Contains(errCalls, m => m.Groups[2].Value == "io_uring_setup()");
        // Off the error path, subtrees start collapsed.
        Assert.Matches("<details class=\"call\"><summary>", dom);
        // The diff: the failing call never reached fd_install.
        Assert.Matches("<p class=\"never\">never reached by the failing call: [^<]*fd_install", dom);
        // The thread's own name (<b>ring|&'") stays text: no <b> element was created from it.
        Assert.DoesNotContain("<b>ring", dom);
        Assert.Contains("&lt;b&gt;ring|&amp;'\"", dom);
        // Self-contained: nothing to fetch.
        Assert.DoesNotMatch("(src|href)=\"(https?:)?//", dom);
    }
}
