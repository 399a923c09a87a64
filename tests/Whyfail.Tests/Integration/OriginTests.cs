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

    /// <summary>Waits (up to 8 minutes: the lab's emulated CPU is slow) until whyfail's output holds <paramref name="text"/>.</summary>
    internal static void WaitForOutput(System.Diagnostics.Process whyfail, string outFile, string text)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(8);
        while (DateTime.UtcNow < deadline && !whyfail.HasExited)
        {
            try
            {
                if (File.Exists(outFile) && File.ReadAllText(outFile).Contains(text)) return;
            }
            catch (IOException)
            {
            }
            Thread.Sleep(200);
        }
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
        // The walk's function makes -ENOENT itself (a negative dentry), but it also calls through function pointers
        // (->d_revalidate, ->get_link, …) that nobody watched: "high" would claim more than whyfail saw, so it is
        // "medium, may be deeper", with the reason naming the errno made there.
        var confidence = o.GetProperty("confidence").GetString();
        if (confidence != "high")
        {
            Assert.Equal("medium", confidence);
            Assert.True(o.GetProperty("deeper").GetBoolean(), o.ToString());
            Assert.Contains("makes -ENOENT itself", o.GetProperty("deeper_why").GetString());
        }
        Assert.NotEqual("", o.GetProperty("backend").GetString());
    }

    /// <summary>
    /// The loop does not wait for the origin resolver (its kallsyms and BTF reads): here they start only once the command's
    /// end was seen (WHYFAIL_RESOLVER_LATE=end), so the failure reaches the end of the run before the resolver does. The
    /// end waits for it because the failure needs it, and the failure is shown with its origin.
    /// </summary>
    [Fact]
    public void AFailureWhoseResolverComesAfterTheCommandEndedStillShowsItsOrigin()
    {
        string path = $"/nonexistent-whyfail-{Guid.NewGuid():N}/x";
        var run = WhyfailRunner.Run(["--deep", "openat", "--", P("open_missing"), path], TimeSpan.FromMinutes(10),
            env: new Dictionary<string, string> { ["WHYFAIL_RESOLVER_LATE"] = "end", ["WHYFAIL_STARTUP_TIMES"] = "1" });
        Assert.True(run.ExitCode == 1, run.ToString());
        // kallsyms is read only once the command's end was seen, and the end needs the resolver for the held failure.
        // Whether that read (a mapped image on a boot's later runs: milliseconds) is still going when the end looks for
        // it is a race either way, so both of the end's marks count.
        int ended = run.Stderr.IndexOf("whyfail: startup: command ended:", StringComparison.Ordinal);
        int read = run.Stderr.IndexOf("whyfail: startup: kallsyms read (", StringComparison.Ordinal);
        int needed = Math.Max(run.Stderr.IndexOf("whyfail: startup: the end waits for the origin resolver:", StringComparison.Ordinal),
            run.Stderr.IndexOf("whyfail: startup: the end needs the origin resolver (read already):", StringComparison.Ordinal));
        int ready = run.Stderr.IndexOf("whyfail: startup: origin resolver ready:", StringComparison.Ordinal);
        Assert.True(ended >= 0 && read > ended && needed > ended && ready > needed, run.Stderr);
        var ev = Assert.Single(run.Failures("openat", "ENOENT"), e => e.GetProperty("args")[1].GetString() == $"\"{path}\"");
        var o = Origin(ev);
        Assert.Contains("path_openat", Chain(o));
        Assert.Contains("do_filp_open", Chain(o));
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
                WaitForOutput(p, outFile, "now also watching");
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
        Assert.Equal("kernel_stack", first.GetProperty("found_by").GetString());
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
        // Watched because the first occurrence's stack showed it: found by zooming in.
        Assert.Equal("zoom", second.GetProperty("found_by").GetString());
        Assert.False(second.GetProperty("deeper").GetBoolean());
        Assert.Equal(["pid_ns_ctl_handler", "proc_sys_call_handler"], Chain(second).Take(2));
        Assert.Contains(failures[1].GetProperty("origin_records").EnumerateArray(), r => r.GetProperty("function").GetString() == "pid_ns_ctl_handler" && r.GetProperty("ret").GetInt64() == -1);
    }

    /// <summary>
    /// bind to port 80 as nobody: __inet_bind (net/ipv4/af_inet.c, 6.1 and 6.12) sets err = -EACCES when
    /// ns_capable(CAP_NET_BIND_SERVICE) — bool — says no. It is reached through sock->ops->bind: watched
    /// from the start as one of the socket families' proto_ops.
    /// </summary>
    [Fact]
    public void EaccesOfAPrivilegedPortComesFromInetBind()
    {
        var run = WhyfailRunner.Run(["--deep", "bind", "-u", "nobody", "--", P("tcp_port"), "bind", "80"], TimeSpan.FromMinutes(10));
        Assert.True(run.ExitCode == 1, run.ToString());
        var o = Origin(Assert.Single(run.Failures("bind", "EACCES")));
        Assert.Equal("__inet_bind", o.GetProperty("function").GetString());
        Assert.False(o.GetProperty("inferred").GetBoolean());
        Assert.Contains("__sys_bind", Chain(o));
        Assert.Contains(o.GetProperty("errno_changes").EnumerateArray(), e => e.GetString()!.Contains("ns_capable, which returns bool: __inet_bind made -EACCES anew"));
        Assert.Equal("high", o.GetProperty("confidence").GetString());
    }

    /// <summary>
    /// connect to a closed port on 127.0.0.1: the RST sets sk->sk_err = ECONNREFUSED (tcp_reset), and
    /// __inet_stream_connect returns it (sock_error(sk), net/ipv4/af_inet.c) under inet_stream_connect,
    /// reached through sock->ops->connect.
    /// </summary>
    [Fact]
    public void EconnrefusedComesFromTheInetStreamConnect()
    {
        var run = WhyfailRunner.Run(["--deep", "connect", "--", P("tcp_port"), "connect", "1"], TimeSpan.FromMinutes(10));
        Assert.True(run.ExitCode == 1, run.ToString());
        var o = Origin(Assert.Single(run.Failures("connect", "ECONNREFUSED")));
        Assert.Equal("__inet_stream_connect", o.GetProperty("function").GetString());
        var chain = Chain(o);
        Assert.Equal("inet_stream_connect", chain[1]);
        Assert.Contains("__sys_connect_file", chain);
    }

    /// <summary>
    /// kill(1, 0) as nobody: check_kill_permission (kernel/signal.c) returns -EPERM when kill_ok_by_cred
    /// (bool; ns_capable(CAP_KILL) inside) says no. It is in kill's static call graph, so it is watched
    /// from the start.
    /// </summary>
    [Fact]
    public void EpermOfKillingAnotherUsersProcessComesFromCheckKillPermission()
    {
        var run = WhyfailRunner.Run(["--deep", "kill", "-u", "nobody", "--", P("kill_pid"), "1", "0"], TimeSpan.FromMinutes(10));
        Assert.True(run.ExitCode == 1, run.ToString());
        var o = Origin(Assert.Single(run.Failures("kill", "EPERM")));
        Assert.Equal("check_kill_permission", o.GetProperty("function").GetString());
        Assert.False(o.GetProperty("inferred").GetBoolean());
        Assert.Contains("kill_something_info", Chain(o));
        Assert.Contains(o.GetProperty("inner").EnumerateArray(), e => e.GetString() == "ns_capable (returns bool)");
        Assert.Equal("high", o.GetProperty("confidence").GetString());
    }

    /// <summary>
    /// mkdir on a read-only bind mount: the mount's write access is refused with -EROFS by
    /// __mnt_want_write (fs/namespace.c, 6.1) — renamed mnt_get_write_access in 6.12 — under
    /// mnt_want_write ← filename_create.
    /// </summary>
    [Fact]
    public void ErofsOfAReadOnlyBindMountComesFromTheMountWriteCheck()
    {
        var dir = Directory.CreateTempSubdirectory("whyfail-ro-");
        bool mounted = false;
        try
        {
            Assert.Equal(0, Sh($"mount --bind '{dir.FullName}' '{dir.FullName}' && mount -o remount,bind,ro '{dir.FullName}'"));
            mounted = true;
            string target = Path.Combine(dir.FullName, "d");
            var run = WhyfailRunner.Run(["--deep", "mkdir", "--", "/bin/mkdir", target], TimeSpan.FromMinutes(10));
            Assert.True(run.ExitCode == 1, run.ToString());
            var o = Origin(Assert.Single(run.Failures("mkdir", "EROFS")));
            Assert.Contains(o.GetProperty("function").GetString(), new[] { "__mnt_want_write", "mnt_get_write_access" });
            var chain = Chain(o);
            Assert.Equal(["mnt_want_write", "filename_create"], chain.Skip(1).Take(2));
            Assert.Equal("high", o.GetProperty("confidence").GetString());
            // It holds "return -EROFS" itself: not deeper, whatever it calls.
            Assert.False(o.GetProperty("deeper").GetBoolean());
            Assert.Equal("return_values", o.GetProperty("found_by").GetString());
            Assert.Equal("function", o.GetProperty("kind").GetString());
        }
        finally
        {
            if (mounted) Sh($"umount '{dir.FullName}'");
            dir.Delete(true);
        }
    }

    private static int Sh(string script)
    {
        using var p = System.Diagnostics.Process.Start("/bin/sh", ["-c", script])!;
        p.WaitForExit();
        return p.ExitCode;
    }

    /// <summary>
    /// -p: mkdir (the syscall, not mkdirat) is not among the syscalls planned at start (--deep write);
    /// its first failure makes whyfail watch its call graph, so the second failure has an origin in the
    /// path walk of fs/namei.c (the parent directory does not exist).
    /// </summary>
    [Fact]
    public void WithPidASyscallFirstSeenFailingIsWatchedFromThenOn()
    {
        string path = $"/nonexistent-whyfail-{Guid.NewGuid():N}/d";
        var psi = new System.Diagnostics.ProcessStartInfo(P("mkdir_path")) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add(path);
        psi.ArgumentList.Add("2");
        using var target = System.Diagnostics.Process.Start(psi)!;
        try
        {
            target.StandardOutput.ReadLine(); // "pid N": it now waits for a line before each mkdir
            var run = WhyfailRunner.Run(["--deep", "write", "-p", target.Id.ToString()], TimeSpan.FromMinutes(10), (p, outFile) =>
            {
                WaitForOutput(p, outFile, "tracing pid");
                target.StandardInput.WriteLine();
                target.StandardInput.Flush();
                WaitForOutput(p, outFile, "mkdir failed for the first time");
                target.StandardInput.WriteLine();
                target.StandardInput.Close();
            });
            Assert.True(target.WaitForExit(TimeSpan.FromMinutes(1)));
            Assert.Equal(2, target.ExitCode);
            Assert.Single(run.Lines, l => l.GetProperty("type").GetString() == "notice" && l.GetProperty("text").GetString()!.Contains("mkdir failed for the first time"));
            var failures = run.Failures("mkdir", "ENOENT").ToList();
            Assert.True(failures.Count == 2, run.ToString());
            // The first failure says why it has no (or only a partial) origin; the second has no such caveat.
            Assert.Equal("not watched yet", failures[0].GetProperty("origin_missed").GetString());
            Assert.False(failures[1].TryGetProperty("origin_missed", out _), failures[1].ToString());
            var o = Origin(failures[1]);
            Assert.Contains("do_mkdirat", Chain(o));
            Assert.Contains(o.GetProperty("function").GetString(), new[] { "walk_component", "step_into", "lookup_slow", "__lookup_slow", "lookup_fast", "link_path_walk", "path_parentat", "filename_parentat" });
        }
        finally
        {
            if (!target.HasExited) target.Kill();
        }
    }

    /// <summary>
    /// --deep auto for a command: only openat's call graph is attached before the command starts, the rest of the
    /// default set while it runs, and mkdir (the syscall: not in the default set) when it first fails. Its first
    /// failure says its origin is "not watched yet"; once whyfail says it watches mkdir's graph, the second failure has
    /// an origin. A budget of 20 functions per plan keeps the probes few (on 6.1 each fexit link costs the kernel
    /// ~150 ms to detach, after whyfail has exited).
    /// </summary>
    [Fact]
    public void WithDeepAutoAFailureBeforeItsGraphIsWatchedSaysSoAndALaterOneHasAnOrigin()
    {
        string path = $"/nonexistent-whyfail-{Guid.NewGuid():N}/d";
        var run = WhyfailRunner.Run(["--deep", "auto", "--deep-budget", "20", "--", P("mkdir_path"), path, "2"], TimeSpan.FromMinutes(10), (p, outFile) =>
        {
            // mkdir_path reads a line (whyfail's standard input, which it inherits) before each mkdir.
            p.StandardInput.WriteLine();
            p.StandardInput.Flush();
            WaitForOutput(p, outFile, "mkdir failed for the first time");
            p.StandardInput.WriteLine();
            p.StandardInput.Close();
        });
        Assert.True(run.ExitCode == 2, run.ToString());
        var notices = run.Lines.Where(l => l.GetProperty("type").GetString() == "notice").Select(l => l.GetProperty("text").GetString()!).ToList();
        Assert.Contains(notices, t => t.Contains("the rest of the default syscall set are attached while the command runs"));
        Assert.Single(notices, t => t.Contains("mkdir failed for the first time"));
        var failures = run.Failures("mkdir", "ENOENT").ToList();
        Assert.True(failures.Count == 2, run.ToString());
        Assert.Equal("not watched yet", failures[0].GetProperty("origin_missed").GetString());
        Assert.False(failures[1].TryGetProperty("origin_missed", out _), failures[1].ToString());
        Assert.Contains("do_mkdirat", Chain(Origin(failures[1])));
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
        // Lockdown: only confidentiality mode forbids what origins need (kprobes, kernel reads).
        const string lockdownPath = "/sys/kernel/security/lockdown";
        if (File.Exists(lockdownPath))
        {
            var text = File.ReadAllText(lockdownPath);
            int a = text.IndexOf('['), b = text.IndexOf(']');
            string mode = text[(a + 1)..b];
            Assert.Equal(mode != "confidentiality", Ok("lockdown"));
            Assert.StartsWith(mode, d.GetProperty("lockdown").GetProperty("detail").GetString());
        }
        // kernel text: /proc/kcore readable, or a vmlinux.
        if (File.Exists("/proc/kcore")) Assert.True(Ok("kernel text"));
    }
}
