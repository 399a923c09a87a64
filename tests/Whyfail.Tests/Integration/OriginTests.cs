using System.Text.Json;
using Xunit;

namespace Whyfail.Tests.Integration;

/// <summary>
/// Kernel origins on kernels that allow return probes (the lab's Debian 6.1 and 6.12): real programs
/// fail, whyfail (zero configuration beyond the syscall to look into) names the kernel function
/// where the error was born and the chain it climbed.
/// </summary>
[Collection("tracing")]
[Trait("kernel", "lab")]
public class OriginTests
{
    private static string P(string name) => WhyfailRunner.Program(name);

    private static JsonElement Origin(JsonElement ev)
    {
        var o = ev.GetProperty("origin");
        Assert.True(o.ValueKind == JsonValueKind.Object, $"no origin in {ev}");
        return o;
    }

    private static List<string> Chain(JsonElement origin) => origin.GetProperty("chain").EnumerateArray().Select(e => e.GetString()!).ToList();

    [Fact]
    public void EnoentOfAPathWalkComesFromTheWalk()
    {
        string path = $"/nonexistent-whyfail-{Guid.NewGuid():N}/x";
        var run = WhyfailRunner.Run(["--deep", "openat", "--", P("open_missing"), path], TimeSpan.FromMinutes(10));
        Assert.True(run.ExitCode == 1, run.ToString());
        var ev = Assert.Single(run.Failures("openat", "ENOENT"), e => e.GetProperty("args")[1].GetString() == $"\"{path}\"");
        var o = Origin(ev);
        // The lookup of the missing component fails inside the path walk of fs/namei.c.
        Assert.Contains(o.GetProperty("function").GetString(), new[] { "walk_component", "step_into", "lookup_slow", "__lookup_slow", "lookup_fast", "link_path_walk" });
        var chain = Chain(o);
        Assert.Contains("path_openat", chain);
        Assert.Contains("do_filp_open", chain);
        Assert.Equal("high", o.GetProperty("confidence").GetString());
        Assert.NotEqual("", o.GetProperty("backend").GetString());
    }

    [Fact]
    public void EaccesOfAnUnsearchableDirectoryComesFromThePermissionCheck()
    {
        var dir = Directory.CreateTempSubdirectory("whyfail-origin-");
        try
        {
            File.SetUnixFileMode(dir.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            string file = Path.Combine(dir.FullName, "f");
            File.WriteAllText(file, "x");
            var run = WhyfailRunner.Run(["--deep", "openat", "-u", "nobody", "--", P("open_missing"), file], TimeSpan.FromMinutes(10));
            Assert.True(run.ExitCode == 1, run.ToString());
            var ev = Assert.Single(run.Failures("openat", "EACCES"));
            var o = Origin(ev);
            Assert.Contains(o.GetProperty("function").GetString(), new[] { "generic_permission", "inode_permission", "may_lookup", "acl_permission_check" });
            Assert.Contains("path_openat", Chain(o));
        }
        finally
        {
            dir.Delete(true);
        }
    }

    [Fact]
    public void PerfEventOpenWithUndefinedBranchBitsIsRejectedByPerfCopyAttr()
    {
        var run = WhyfailRunner.Run(["--deep", "perf_event_open", "--", P("perf_bad_branch")], TimeSpan.FromMinutes(10));
        Assert.True(run.ExitCode == 0, run.ToString());
        var ev = Assert.Single(run.Failures("perf_event_open", "EINVAL"));
        var o = Origin(ev);
        Assert.Equal("perf_copy_attr", o.GetProperty("function").GetString());
    }

    /// <summary>
    /// The headline case: nobody writes /proc/sys/kernel/ns_last_pid. The open succeeds (mode 0666,
    /// "permissions are checked in the handler"); the write goes vfs_write → f_op->write_iter (proc_sys_write)
    /// → proc_sys_call_handler → table->proc_handler = pid_ns_ctl_handler, whose
    /// checkpoint_restore_ns_capable() (ns_capable, bool) says no: it returns -EPERM itself
    /// (kernel/pid_namespace.c, 6.1 and 6.12). Both handlers are reached through function pointers, so
    /// the first failure places them from the kernel stack; whyfail then watches them and the second
    /// failure confirms the origin by its return value.
    /// </summary>
    [Fact]
    public void EpermOfNsLastPidComesFromThePidNamespaceSysctlHandler()
    {
        var run = WhyfailRunner.Run(["--deep", "write", "-u", "nobody", "--", P("write_file"), "/proc/sys/kernel/ns_last_pid", "5", "2"],
            TimeSpan.FromMinutes(10), (p, outFile) =>
            {
                // The second write waits for a line on its standard input: send it once whyfail watches the handlers.
                var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(8);
                while (DateTime.UtcNow < deadline && !p.HasExited)
                {
                    try
                    {
                        if (File.Exists(outFile) && File.ReadAllText(outFile).Contains("now also watching")) break;
                    }
                    catch (IOException)
                    {
                    }
                    Thread.Sleep(200);
                }
                if (!p.HasExited)
                {
                    p.StandardInput.WriteLine();
                    p.StandardInput.Flush();
                }
            });
        Assert.True(run.ExitCode == 2, run.ToString());
        var notice = Assert.Single(run.Lines, l => l.GetProperty("type").GetString() == "notice" && l.GetProperty("text").GetString()!.Contains("now also watching"));
        Assert.Contains("pid_ns_ctl_handler", notice.GetProperty("text").GetString());
        var failures = run.Failures("write", "EPERM").ToList();
        Assert.Equal(2, failures.Count);

        // First occurrence: placed from the stack, above the bool-returning capability check.
        var first = Origin(failures[0]);
        Assert.Equal("pid_ns_ctl_handler", first.GetProperty("function").GetString());
        Assert.True(first.GetProperty("inferred").GetBoolean());
        Assert.NotEqual(0, first.GetProperty("offset").GetInt64());
        Assert.Equal("medium", first.GetProperty("confidence").GetString());
        var chain = Chain(first);
        Assert.Equal(["pid_ns_ctl_handler", "proc_sys_call_handler"], chain.Take(2));
        Assert.Contains("vfs_write", chain);
        var watched = first.GetProperty("chain_watched").EnumerateArray().Select(e => e.GetBoolean()).ToList();
        Assert.False(watched[0]);
        Assert.True(watched[chain.IndexOf("vfs_write")]);
        Assert.Contains(first.GetProperty("inner").EnumerateArray(), e => e.GetString() == "ns_capable (returns bool)");
        Assert.Contains(first.GetProperty("errno_changes").EnumerateArray(), e => e.GetString()!.Contains("made -EPERM anew"));

        // Second occurrence: both handlers watched, the origin confirmed by their return values.
        var second = Origin(failures[1]);
        Assert.Equal("pid_ns_ctl_handler", second.GetProperty("function").GetString());
        Assert.False(second.GetProperty("inferred").GetBoolean());
        Assert.Equal("high", second.GetProperty("confidence").GetString());
        Assert.Equal(["pid_ns_ctl_handler", "proc_sys_call_handler"], Chain(second).Take(2));
        Assert.Contains(failures[1].GetProperty("origin_records").EnumerateArray(), r => r.GetProperty("function").GetString() == "pid_ns_ctl_handler" && r.GetProperty("ret").GetInt64() == -1);
    }
}

/// <summary>On a kernel that forbids return probes (this project's locked-down host), whyfail says so once and goes on.</summary>
[Collection("tracing")]
[Trait("kernel", "host")]
public class OriginDegradationTests
{
    [Fact]
    public void WithoutKprobesOrFexitThereIsOneNoticeAndNoOrigin()
    {
        if (File.Exists("/sys/bus/event_source/devices/kprobe/type"))
            return; // this kernel has kprobes: the lab tests cover it
        string path = $"/nonexistent-whyfail-{Guid.NewGuid():N}/x";
        var run = WhyfailRunner.Run("--deep", "openat", "--", WhyfailRunner.Program("open_missing"), path);
        Assert.True(run.ExitCode == 1, run.ToString());
        var notice = Assert.Single(run.Lines, l => l.GetProperty("type").GetString() == "notice" && l.GetProperty("text").GetString()!.StartsWith("no kernel origins"));
        Assert.Contains("fexit", notice.GetProperty("text").GetString());
        var ev = Assert.Single(run.Failures("openat", "ENOENT"), e => e.GetProperty("args")[1].GetString() == $"\"{path}\"");
        Assert.Equal(JsonValueKind.Null, ev.GetProperty("origin").ValueKind);
    }
}

/// <summary>whyfail doctor's claims, checked against the kernel directly (on the host and in each lab kernel).</summary>
[Collection("tracing")]
[Trait("suite", "integration")]
public class DoctorTests
{
    [Fact]
    public void DoctorTellsTheTruth()
    {
        var psi = WhyfailRunner.StartInfo(["doctor", "--json"]);
        using var p = System.Diagnostics.Process.Start(psi)!;
        string json = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
        var d = JsonDocument.Parse(json).RootElement;
        bool? Ok(string name) => d.GetProperty(name).GetProperty("ok") is { ValueKind: JsonValueKind.True or JsonValueKind.False } v ? v.GetBoolean() : null;

        Assert.Equal(File.Exists("/sys/kernel/btf/vmlinux"), Ok("btf"));
        Assert.Equal(File.Exists("/sys/bus/event_source/devices/kprobe/type"), Ok("kprobes"));
        string tracers = File.Exists("/sys/kernel/tracing/available_tracers") ? File.ReadAllText("/sys/kernel/tracing/available_tracers") : "";
        Assert.Equal(tracers.Split(' ', '\n').Contains("function_graph"), Ok("function_graph"));
        string options = File.Exists("/sys/kernel/tracing/trace_options") ? File.ReadAllText("/sys/kernel/tracing/trace_options") : "";
        Assert.Equal(options.Contains("funcgraph-retval"), Ok("funcgraph-retval"));
        // fexit: the doctor loads a program; check its answer against bpftool's view of the kernel when available
        // is not possible without another loader, so check consistency: an origin backend exists iff kprobes or fexit do.
        Assert.Equal(Ok("kprobes") == true || Ok("fexit") == true, Ok("origin backend"));
    }
}
