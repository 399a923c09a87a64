using System.Diagnostics;
using System.Net.Sockets;
using System.Text.Json;
using Whyfail.Analysis.Origin.Kernel;
using Whyfail.Tests.Integration;
using Xunit;

namespace Whyfail.Tests.Source;

/// <summary>
/// Debug info and kernel source from debuginfod, by build id, in the lab kernels: a debuginfod web
/// tree (the protocol's two static endpoints, /buildid/ID/debuginfo and /buildid/ID/source/PATH,
/// served by python3's http.server from the lab's -dbg vmlinux and source) is the only place whyfail
/// can find them: no --vmlinux, no --kernel-src, nothing under /usr/lib/debug. The real client,
/// elfutils' debuginfod-find, fetches them into a private cache; the line and the snippet are then
/// checked against the real source of that kernel version.
/// </summary>
[Collection("tracing")]
[Trait("kernel", "lab")]
public sealed class DebuginfodLabTests : IDisposable
{
    /// <summary>Where Debian's kernel builds record their sources in DWARF (relative compilation directory).</summary>
    private const string DebianDwarfPrefix = "debian/build/build_amd64_none_amd64";

    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("wf-debuginfod-");
    private readonly Process _server;
    private readonly int _port;

    public DebuginfodLabTests()
    {
        string id = KernelBuildId.FromNotes() ?? throw new InvalidOperationException("the running kernel has no build id");
        var served = Path.Combine(_root.FullName, "www", "buildid", id);
        Directory.CreateDirectory(Path.Combine(served, "source", Path.GetDirectoryName(DebianDwarfPrefix)!));
        File.CreateSymbolicLink(Path.Combine(served, "debuginfo"), LabDebugInfo.Vmlinux);
        Directory.CreateSymbolicLink(Path.Combine(served, "source", DebianDwarfPrefix), LabDebugInfo.SourceDir);
        using (var l = new TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            l.Start();
            _port = ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
        }
        var psi = new ProcessStartInfo("python3") { ArgumentList = { "-m", "http.server", _port.ToString(), "--bind", "127.0.0.1", "--directory", Path.Combine(_root.FullName, "www") },
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        _server = Process.Start(psi)!;
        _server.OutputDataReceived += (_, _) => { };
        _server.ErrorDataReceived += (_, _) => { };
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();
        for (var sw = Stopwatch.StartNew(); ; Thread.Sleep(200))
        {
            try
            {
                using var c = new TcpClient("127.0.0.1", _port);
                break;
            }
            catch (SocketException) when (sw.Elapsed < TimeSpan.FromSeconds(60) && !_server.HasExited)
            {
            }
        }
    }

    [Fact]
    public void NsLastPidsEpermSiteAndSnippetComeFromDebuginfod()
    {
        Assert.False(File.Exists($"/usr/lib/debug/boot/vmlinux-{LabDebugInfo.Release}"), "this test needs a machine without a local debug vmlinux");
        var cache = Path.Combine(_root.FullName, "cache");
        var run = WhyfailRunner.Run(["--deep", "write", "-u", "nobody", "--", WhyfailRunner.Program("write_file"), "/proc/sys/kernel/ns_last_pid", "5"],
            TimeSpan.FromMinutes(15), env: new Dictionary<string, string>
            {
                ["DEBUGINFOD_URLS"] = $"http://127.0.0.1:{_port}",
                ["DEBUGINFOD_CACHE_PATH"] = cache,
            });
        Assert.True(run.ExitCode == 1, run.ToString());
        var notice = Assert.Single(run.Lines, l => l.GetProperty("type").GetString() == "notice" && l.GetProperty("text").GetString()!.StartsWith("source lines: "));
        string text = notice.GetProperty("text").GetString()!;
        Assert.StartsWith($"source lines: {cache}/", text);
        Assert.Contains("build id matches", text);
        Assert.Contains("kernel source from debuginfod", text);

        var o = Assert.Single(run.Failures("write", "EPERM")).GetProperty("origin");
        Assert.Equal("pid_ns_ctl_handler", o.GetProperty("function").GetString());
        Assert.Equal("kernel/pid_namespace.c", o.GetProperty("file").GetString());
        Assert.Equal("exact", o.GetProperty("site").GetString());
        int want = LabDebugInfo.LineAfter("kernel/pid_namespace.c", "static int pid_ns_ctl_handler(", "return -EPERM;");
        var site = Assert.Single(o.GetProperty("sites").EnumerateArray());
        Assert.Equal(want, site.GetProperty("line").GetInt32());
        // The snippet is the real file, fetched through debuginfod.
        var snippet = o.GetProperty("snippet");
        Assert.Equal(want, snippet.GetProperty("line").GetInt32());
        var real = File.ReadAllLines(Path.Combine(LabDebugInfo.SourceDir, "kernel/pid_namespace.c"));
        int first = snippet.GetProperty("first_line").GetInt32();
        var lines = snippet.GetProperty("lines").EnumerateArray().Select(l => l.GetString()!).ToArray();
        Assert.Equal(real[(first - 1)..(first - 1 + lines.Length)], lines);
        Assert.Contains(lines, l => l.Contains("return -EPERM;"));
    }

    public void Dispose()
    {
        try
        {
            _server.Kill();
            _server.WaitForExit();
        }
        catch (InvalidOperationException)
        {
        }
        _server.Dispose();
        _root.Delete(true);
    }
}
