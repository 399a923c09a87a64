using Xunit;

namespace Whyfail.Tests.Graph;

/// <summary>
/// The text tree of a real recorded graph (io_uring_setup with a missing SQPOLL CPU, recorded in the 6.12 lab with
/// `whyfail graph --json`), rendered by the real whyfail from the recording (--input): runs on any kernel, so the
/// lab's time goes to recording, which only the lab can do (GraphLabTests).
/// </summary>
public class GraphTextTests
{
    private static readonly string Recording = Path.Combine(AppContext.BaseDirectory, "Graph", "recordings", "uring_bad_cpu-6.12.jsonl");

    [Fact]
    public void TextTreeMarksTheErrorPathAndFolds()
    {
        var run = GraphRunner.Run(["--input", Recording, "--color", "never"], TimeSpan.FromMinutes(1));
        Assert.True(run.ExitCode == 0, run.ToString());
        var lines = run.Output.Split('\n');
        Assert.Contains(lines, l => l.StartsWith('>') && l.Contains("__x64_sys_io_uring_setup() {"));
        Assert.Contains(lines, l => l.StartsWith('>') && l.Contains(" io_uring_setup() {"));
        Assert.Contains(lines, l => l.Contains(" calls }"));                        // a folded subtree
        Assert.Contains(lines, l => l.Contains("never reached by the failing call:") && l.Contains("fd_install"));
        Assert.Contains(lines, l => l.Contains("\\<b>ring") || l.Contains("<b>ring|&'\""));  // the name, as text
        Assert.DoesNotContain(lines, l => l.Contains('\u001b'));                   // --color never
    }
}
