#pragma warning disable CA1416 // Linux only
using System.Diagnostics;
using Whyfail.Analysis.Origin.Kernel;
using Xunit;
using Xunit.Abstractions;

namespace Whyfail.Tests.Origin;

public class CallGraphCacheTests(ITestOutputHelper output)
{
    private static readonly uint Uid = (uint)GetEuid();
    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "geteuid")]
    private static extern int GetEuid();

    private static readonly string[] Functions = ["__x64_sys_openat", "do_sys_openat2", "do_filp_open", "path_openat"];

    [Fact]
    public void StoresAtomically_AndReadsBack()
    {
        using var dir = new TempDir();
        var cache = new CallGraphCache(Path.Combine(dir.Path, "whyfail", "callgraph"), Uid);
        var opts = new CallGraphOptions();
        Assert.False(cache.TryGet("abc123", "openat", opts, out _));

        cache.Store("abc123", "openat", opts, Functions);
        Assert.True(cache.TryGet("abc123", "openat", opts, out var back));
        Assert.Equal(Functions, back);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute,
            File.GetUnixFileMode(cache.Directory));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(cache.PathFor("abc123", "openat", opts)));
        Assert.Single(Directory.GetFiles(cache.Directory, "*", SearchOption.AllDirectories)); // no temp file left

        // Another kernel, syscall or option set is another entry.
        Assert.False(cache.TryGet("def456", "openat", opts, out _));
        Assert.False(cache.TryGet("abc123", "write", opts, out _));
        Assert.False(cache.TryGet("abc123", "openat", opts with { MaxDepth = 3 }, out _));
        Assert.NotEqual(cache.PathFor("abc123", "openat", opts), cache.PathFor("abc123", "openat", opts with { ExtraDeny = ["x*"] }));

        cache.Store("abc123", "openat", opts, ["only_one"]);  // replaced
        Assert.True(cache.TryGet("abc123", "openat", opts, out back));
        Assert.Equal(new[] { "only_one" }, back);
    }

    [Fact]
    public void GetOrCompute_ComputesOnce()
    {
        using var dir = new TempDir();
        var cache = new CallGraphCache(dir.File("callgraph"), Uid);
        int computed = 0;
        IReadOnlyList<string> Compute() { computed++; return Functions; }
        Assert.Equal(Functions, cache.GetOrCompute("id", "openat", new CallGraphOptions(), Compute));
        Assert.Equal(Functions, cache.GetOrCompute("id", "openat", new CallGraphOptions(), Compute));
        Assert.Equal(1, computed);
    }

    [Fact]
    public void RefusesASymlinkedDirectory()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("real"));
        File.CreateSymbolicLink(dir.File("link"), dir.File("real"));
        var cache = new CallGraphCache(Path.Combine(dir.File("link"), "callgraph"), Uid);
        var e = Assert.Throws<KernelAnalysisException>(() => cache.Store("id", "openat", new CallGraphOptions(), Functions));
        Assert.Contains("is a symbolic link", e.Message);
        Assert.Empty(Directory.GetFileSystemEntries(dir.File("real")));

        // The cache directory itself a symlink.
        File.CreateSymbolicLink(dir.File("callgraph"), dir.File("real"));
        cache = new CallGraphCache(dir.File("callgraph"), Uid);
        Assert.Throws<KernelAnalysisException>(() => cache.Store("id", "openat", new CallGraphOptions(), Functions));
        Assert.False(cache.TryGet("id", "openat", new CallGraphOptions(), out _));

        var warned = new List<string>();
        var list = cache.GetOrCompute("id", "openat", new CallGraphOptions(), () => Functions, warned.Add);
        Assert.Equal(Functions, list);
        Assert.Contains("symbolic link", Assert.Single(warned));
    }

    [Fact]
    public void RefusesADirectoryOwnedBySomeoneElse_OrWritableByOthers()
    {
        using var dir = new TempDir();
        var cache = new CallGraphCache(dir.File("callgraph"), Uid);
        cache.Store("id", "openat", new CallGraphOptions(), Functions);

        File.SetUnixFileMode(cache.Directory, (UnixFileMode)0x1ff); // 0777
        var e = Assert.Throws<KernelAnalysisException>(() => cache.Store("id", "openat", new CallGraphOptions(), Functions));
        Assert.Contains("writable by group or others", e.Message);
        Assert.False(cache.TryGet("id", "openat", new CallGraphOptions(), out _));
        File.SetUnixFileMode(cache.Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        if (Uid != 0)
        {
            output.WriteLine("ownership part not checked: needs root to chown");
            return;
        }
        using (var chown = Process.Start("chown", ["65534", cache.Directory]))
            chown.WaitForExit();
        e = Assert.Throws<KernelAnalysisException>(() => cache.Store("id", "openat", new CallGraphOptions(), Functions));
        Assert.Contains("is owned by uid 65534", e.Message);
        Assert.False(cache.TryGet("id", "openat", new CallGraphOptions(), out _));
    }

    [Fact]
    public void IgnoresAFileWhoseHeaderDoesNotMatch_OrThatIsASymlink()
    {
        using var dir = new TempDir();
        var cache = new CallGraphCache(dir.File("callgraph"), Uid);
        var opts = new CallGraphOptions();
        cache.Store("id", "openat", opts, Functions);
        string path = cache.PathFor("id", "openat", opts);
        File.WriteAllText(path, "# whyfail callgraph v1\n# kernel other\n# syscall openat\n# options x\nfoo\n");
        Assert.False(cache.TryGet("id", "openat", opts, out _));

        File.Delete(path);
        File.WriteAllText(dir.File("elsewhere"), "# whyfail callgraph v1\n");
        File.CreateSymbolicLink(path, dir.File("elsewhere"));
        Assert.False(cache.TryGet("id", "openat", opts, out _));
        cache.Store("id", "openat", opts, Functions);       // rename replaces the link, never writes through it
        Assert.Equal("# whyfail callgraph v1\n", File.ReadAllText(dir.File("elsewhere")));
        Assert.True(cache.TryGet("id", "openat", opts, out var back));
        Assert.Equal(Functions, back);
    }

    [Fact]
    public void BuildId_ComesFromKernelNotes()
    {
        using var dir = new TempDir();
        byte[] id = [0x85, 0xc7, 0xe4, 0xe2, 0xed, 0x76, 0xf4, 0x41, 0x7e, 0x8a, 0xaa, 0xd7, 0xc6, 0xb0, 0x40, 0xd2, 0xbb, 0x89, 0x7a, 0x26];
        // A "Linux" note first, as in /sys/kernel/notes, then the GNU build id.
        byte[] other = [6, 0, 0, 0, 4, 0, 0, 0, 1, 1, 0, 0, .. "Linux\0\0\0"u8, 1, 2, 3, 4];
        File.WriteAllBytes(dir.File("notes"), [.. other, .. TestElf.GnuBuildIdNote(id)]);
        Assert.Equal("85c7e4e2ed76f4417e8aaad7c6b040d2bb897a26", KernelBuildId.FromNotes(dir.File("notes")));
        Assert.Equal("85c7e4e2ed76f4417e8aaad7c6b040d2bb897a26", KernelBuildId.Current(dir.File("notes")));

        File.WriteAllText(dir.File("version"), "Linux version 6.1.0-56-amd64 ... #1 SMP PREEMPT_DYNAMIC Debian 6.1.153-1");
        string fallback = KernelBuildId.Current(dir.File("missing-notes"), dir.File("version"));
        Assert.StartsWith(KernelBuildId.Release().Replace('/', '_'), fallback);
        Assert.Matches("-[0-9a-f]{16}$", fallback);

        string? real = KernelBuildId.FromNotes();
        output.WriteLine($"running kernel build id: {real ?? "(none)"}");
        if (File.Exists(KernelBuildId.NotesPath)) Assert.Matches("^[0-9a-f]{16,}$", real);
    }
}
