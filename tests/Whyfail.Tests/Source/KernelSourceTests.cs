using System.Diagnostics;
using Whyfail.Analysis.Origin.Source;
using Xunit;

namespace Whyfail.Tests.Source;

/// <summary>Kernel source from a tree or from a tarball (real tar, real files; only the needed files are extracted).</summary>
public class KernelSourceTests
{
    [Fact]
    public void ATarballGivesTheFilesThatAreAskedForAndNothingOutsideTheTree()
    {
        var dir = Directory.CreateTempSubdirectory("whyfail-src-");
        string? cache = null;
        try
        {
            string tree = Path.Combine(dir.FullName, "linux-source-9.9");
            Directory.CreateDirectory(Path.Combine(tree, "fs"));
            Directory.CreateDirectory(Path.Combine(tree, "kernel"));
            File.WriteAllLines(Path.Combine(tree, "fs", "namei.c"), Enumerable.Range(1, 20).Select(i => $"line {i}\t-ENOENT"));
            File.WriteAllText(Path.Combine(tree, "kernel", "pid.c"), "x\n");
            string tarball = Path.Combine(dir.FullName, "linux-source-9.9.tar.xz");
            using (var tar = Process.Start(new ProcessStartInfo("tar") { ArgumentList = { "-cJf", tarball, "-C", dir.FullName, "linux-source-9.9" } })!)
            {
                tar.WaitForExit();
                Assert.Equal(0, tar.ExitCode);
            }

            var src = KernelSource.Open(tarball, null, out var why);
            Assert.True(src != null, why);
            cache = src.Root;
            Assert.StartsWith(KernelSource.CacheRoot + "/", cache);
            Assert.Equal("line 7\t-ENOENT", src.Line("fs/namei.c", 7));
            var snippet = src.Snippet("fs/namei.c", 2)!;
            Assert.Equal((1, 2, 5), (snippet.FirstLine, snippet.Line, snippet.Lines.Count));
            // Only what was asked for was extracted.
            Assert.True(File.Exists(Path.Combine(cache, "fs", "namei.c")));
            Assert.False(File.Exists(Path.Combine(cache, "kernel", "pid.c")));
            Assert.Null(src.Line("fs/missing.c", 1));
            Assert.Null(src.Line("../../../etc/passwd", 1));
            Assert.Null(src.Line("/etc/passwd", 1));
        }
        finally
        {
            dir.Delete(true);
            if (cache != null && Directory.Exists(cache)) Directory.Delete(cache, true);
        }
    }

    [Fact]
    public void NeitherADirectoryNorATarballIsRefusedWithTheReason()
    {
        Assert.Null(KernelSource.Open("/etc/hostname", null, out var why));
        Assert.Contains("neither a directory nor a .tar", why);
    }
}
