using System.Diagnostics;
using System.Text.Json;
using Whyfail.Capture.Deny;
using Xunit;

namespace Whyfail.Tests.Integration;

/// <summary>
/// A fact that needs BPF LSM (whyfail deny): the deny object is loaded here, for real, once; where the kernel refuses
/// it the test is skipped with the kernel's reason (this project's host: EPERM under lockdown=integrity).
/// </summary>
public sealed class FactRequiringBpfLsmAttribute : FactAttribute
{
    private static readonly Lazy<string?> Unavailable = new(() =>
    {
        try
        {
            using var probe = DenyEnforcer.Load([new DenyRule(1, "exec=/nonexistent", DenyWhat.Exec, "/nonexistent", 0, 13, DenyUsers.Any, [], null)]);
            return null;
        }
        catch (WhyfailException e) { return e.Message; }
    });

    public static string? Why => Unavailable.Value;

    public FactRequiringBpfLsmAttribute(bool without = false)
    {
        if (!without && Why is { } why) Skip = $"needs BPF LSM, which this kernel does not give: {why}";
        if (without && Why is null) Skip = "BPF LSM works on this kernel: the refusals themselves are tested instead (DenyTests)";
    }
}

/// <summary>
/// `whyfail deny` for real: one whyfail session with four rules (create, open, exec, bind) while real programs, as
/// nobody and as root, hit each of them; then its output, explanations and per-rule counts. And nothing stays attached
/// when whyfail is killed with SIGKILL.
/// </summary>
[Collection("tracing")]
[Trait("suite", "integration")]
public class DenyTests
{
    private static string TempDir(string tag)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"whyfail-deny-{tag}-{Guid.NewGuid():N}"[..36]);
        Directory.CreateDirectory(dir);
        File.SetUnixFileMode(dir, (UnixFileMode)0x1ff); // 0777: nobody writes here too
        return dir;
    }

    private static (int Exit, string Out) Sh(string script, bool asNobody = false)
    {
        var psi = new ProcessStartInfo(asNobody ? "setpriv" : "sh") { RedirectStandardOutput = true, RedirectStandardError = true };
        if (asNobody)
            foreach (var a in new[] { "--reuid=65534", "--regid=65534", "--clear-groups", "sh" }) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var o = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, o + err.Result);
    }

    /// <summary>Starts `whyfail deny ARGS -o FILE` and waits until its rules are enforced (its start notice).</summary>
    private static Process StartDeny(string outFile, params string[] args)
    {
        var psi = WhyfailRunner.StartInfo(new[] { "deny", "-o", outFile }.Concat(args));
        var p = Process.Start(psi)!;
        var sw = Stopwatch.StartNew();
        while (!(File.Exists(outFile) && File.ReadAllText(outFile).Contains("deny: enforcing")))
        {
            if (p.HasExited) Assert.Fail($"whyfail deny exited with {p.ExitCode}: {p.StandardError.ReadToEnd()}");
            // Under the lab's emulated CPU, loading the trace and attaching each LSM trampoline takes seconds.
            if (sw.Elapsed > TimeSpan.FromSeconds(240))
            {
                p.Kill();
                Assert.Fail($"whyfail deny did not start enforcing within 240 s; its report so far:\n{(File.Exists(outFile) ? File.ReadAllText(outFile) : "(none)")}");
            }
            Thread.Sleep(100);
        }
        return p;
    }

    private static void WaitFor(Func<bool> done, TimeSpan max, string what)
    {
        var sw = Stopwatch.StartNew();
        while (!done())
        {
            if (sw.Elapsed > max) Assert.Fail($"{what} not within {max.TotalSeconds} s");
            Thread.Sleep(100);
        }
    }

    [FactRequiringBpfLsm]
    public void Four_rules_in_one_session_refuse_create_open_exec_and_bind_and_each_refusal_names_its_rule()
    {
        var dir = TempDir("run");
        var outFile = Path.Combine(Path.GetTempPath(), $"whyfail-deny-{Guid.NewGuid():N}.jsonl");
        string tag = Guid.NewGuid().ToString("N")[..8];
        int port = 20000 + Random.Shared.Next(30000);
        Directory.CreateDirectory(Path.Combine(dir, "bin"));
        File.WriteAllText(Path.Combine(dir, "secret.txt"), "s3cret\n");
        File.WriteAllText(Path.Combine(dir, "bin", "hello"), "#!/bin/sh\necho hello\n");
        File.SetUnixFileMode(Path.Combine(dir, "bin", "hello"), (UnixFileMode)0x1ed); // 0755
        string[] rules = [$"create=*.{tag}:user=!root", $"open={dir}/secret*", $"exec={dir}/bin/**", $"bind={port}:errno=EADDRINUSE"];
        Process? whyfail = null;
        try
        {
            whyfail = StartDeny(outFile, ["--json", .. rules]);
            var createNobody = Sh($"echo x > {dir}/a.{tag}", asNobody: true);
            var createRoot = Sh($"echo x > {dir}/b.{tag}");
            var open = Sh($"cat {dir}/secret.txt");
            var exec = Sh($"{dir}/bin/hello");
            var bind = Sh($"{WhyfailRunner.Program("tcp_port")} bind {port}");
            var control = Sh($"echo x > {dir}/c.other", asNobody: true); // no rule: allowed

            Assert.True(createNobody.Exit != 0 && createNobody.Out.Contains("Permission denied"), createNobody.ToString());
            Assert.True(createRoot.Exit == 0 && File.Exists($"{dir}/b.{tag}"), createRoot.ToString());
            Assert.False(File.Exists($"{dir}/a.{tag}"));
            Assert.True(open.Exit == 1 && open.Out.Contains("Permission denied"), open.ToString());
            Assert.True(exec.Exit == 126, exec.ToString()); // the shell's "found but cannot execute"
            Assert.Equal(1, bind.Exit);
            Assert.True(control.Exit == 0, control.ToString());

            // Every refusal reported with its call before stopping whyfail (the verdict holds a failure until its process ends).
            WaitFor(() => File.ReadAllLines(outFile).Count(l => l.Contains("\"denied_by\":{")) >= 4, TimeSpan.FromSeconds(60), "four refusals in the report");
            Sh($"kill -TERM {whyfail.Id}");
            Assert.True(whyfail.WaitForExit(TimeSpan.FromSeconds(60)), "whyfail deny did not stop on SIGTERM");
            Assert.Equal(0, whyfail.ExitCode);

            var lines = File.ReadAllLines(outFile).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
            var denied = lines.Where(l => l.GetProperty("type").GetString() == "syscall" && l.GetProperty("denied_by").ValueKind == JsonValueKind.Object).ToList();
            string Report() => string.Join('\n', lines.Select(l => l.GetRawText()));

            JsonElement ByRule(int rule) => Assert.Single(denied, d => d.GetProperty("denied_by").GetProperty("rule").GetInt32() == rule);
            var c = ByRule(1);
            Assert.Equal("EACCES", c.GetProperty("errno").GetString());
            Assert.Equal(65534, c.GetProperty("euid").GetInt32());
            Assert.Equal("inode_create", c.GetProperty("denied_by").GetProperty("hook").GetString());
            Assert.Equal($"a.{tag}", c.GetProperty("denied_by").GetProperty("matched").GetString());
            Assert.Equal(rules[0], c.GetProperty("denied_by").GetProperty("text").GetString());
            Assert.Contains($"{dir}/a.{tag}", c.GetProperty("args")[1].GetString());
            var x = c.GetProperty("explanation")[0];
            Assert.Equal("deny.rule", x.GetProperty("rule").GetString());
            Assert.Contains($"whyfail deny rule 1 ({rules[0]})", x.GetProperty("text").GetString());
            Assert.Contains("inode_create", x.GetProperty("text").GetString());

            var o = ByRule(2);
            Assert.Equal(("file_open", $"{dir}/secret.txt", "cat"), (o.GetProperty("denied_by").GetProperty("hook").GetString(), o.GetProperty("denied_by").GetProperty("matched").GetString(), o.GetProperty("comm").GetString()));
            var e = ByRule(3);
            Assert.Equal(("bprm_check_security", $"{dir}/bin/hello"), (e.GetProperty("denied_by").GetProperty("hook").GetString(), e.GetProperty("denied_by").GetProperty("matched").GetString()));
            Assert.StartsWith("execve", e.GetProperty("syscall").GetString());
            var b = ByRule(4);
            Assert.Equal(("bind", "EADDRINUSE", "socket_bind", port.ToString()), (b.GetProperty("syscall").GetString(), b.GetProperty("errno").GetString(),
                b.GetProperty("denied_by").GetProperty("hook").GetString(), b.GetProperty("denied_by").GetProperty("matched").GetString()));
            Assert.True(denied.Count == 4, Report()); // root's create and the control were not refused
            // By default only refusals are reported: no other failure of the machine.
            Assert.True(lines.Count(l => l.GetProperty("type").GetString() == "syscall") == 4, Report());

            var summary = Assert.Single(lines, l => l.GetProperty("type").GetString() == "summary").GetProperty("deny");
            Assert.Equal([1UL, 1UL, 1UL, 1UL], summary.GetProperty("rules").EnumerateArray().Select(r => r.GetProperty("refused").GetUInt64()));
            Assert.Equal(4UL, summary.GetProperty("reported").GetUInt64());
            Assert.Equal(0UL, summary.GetProperty("unreported").GetUInt64());
        }
        finally
        {
            if (whyfail is { HasExited: false }) whyfail.Kill();
            whyfail?.Dispose();
            Directory.Delete(dir, true);
            File.Delete(outFile);
        }
    }

    private static string Bpftool(string what)
    {
        var psi = new ProcessStartInfo("bpftool", [what, "show"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var o = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return o;
    }

    [FactRequiringBpfLsm]
    public void After_SIGKILL_of_whyfail_nothing_is_refused_and_no_deny_program_is_left()
    {
        var dir = TempDir("kill");
        var outFile = Path.Combine(Path.GetTempPath(), $"whyfail-deny-{Guid.NewGuid():N}.txt");
        File.WriteAllText(Path.Combine(dir, "secret.txt"), "s3cret\n");
        Process? whyfail = null;
        try
        {
            whyfail = StartDeny(outFile, $"open={dir}/secret*");
            Assert.Contains("deny_file_open", Bpftool("prog"));
            var refused = Sh($"cat {dir}/secret.txt");
            Assert.True(refused.Exit == 1 && refused.Out.Contains("Permission denied"), refused.ToString());
            // The text report: the call, marked with its rule, and why.
            WaitFor(() => File.ReadAllText(outFile).Contains("(denied by rule 1)"), TimeSpan.FromSeconds(60), "the refusal in the text report");
            var text = File.ReadAllText(outFile);
            Assert.Matches($@"\[pid \d+ ""cat""\] openat\(AT_FDCWD, ""{dir}/secret.txt"", O_RDONLY\) = -1 EACCES \(Permission denied\) \(denied by rule 1\)", text);
            Assert.Contains($"why: refused by whyfail deny rule 1 (open={dir}/secret*): its BPF LSM program on the hook file_open matched the path \"{dir}/secret.txt\"", text);

            whyfail.Kill(); // SIGKILL: no clean-up code runs
            Assert.True(whyfail.WaitForExit(TimeSpan.FromSeconds(30)));
            // The kernel drops the links with whyfail's descriptors; freeing the programs may take a grace period.
            WaitFor(() => Sh($"cat {dir}/secret.txt").Exit == 0, TimeSpan.FromSeconds(30), "cat allowed again after SIGKILL");
            Assert.Equal("s3cret\n", Sh($"cat {dir}/secret.txt").Out);
            WaitFor(() => !Bpftool("prog").Contains("deny_") && !Bpftool("link").Contains("deny_"), TimeSpan.FromSeconds(30), "no deny program or link left");
        }
        finally
        {
            if (whyfail is { HasExited: false }) whyfail.Kill();
            whyfail?.Dispose();
            Directory.Delete(dir, true);
            File.Delete(outFile);
        }
    }

    [FactRequiringBpfLsm(without: true)]
    public void Without_BPF_LSM_deny_exits_4_with_the_kernels_reason_and_doctor_says_it()
    {
        var run = Whyfail("deny", "create=*.never");
        Assert.True(run.Exit == 4, $"exit {run.Exit}: {run.Out}");
        Assert.StartsWith("whyfail: whyfail deny cannot refuse anything on this kernel: ", run.Out);
        Assert.Contains(FactRequiringBpfLsmAttribute.Why!, run.Out); // the same reason as the in-process probe
        Assert.Contains("no fallback: fmod_ret", run.Out);
        var doctor = Whyfail("doctor");
        Assert.Matches(@"\n  no   deny +\S", doctor.Out);
    }

    private static (int Exit, string Out) Whyfail(params string[] args)
    {
        using var p = Process.Start(WhyfailRunner.StartInfo(args))!;
        var err = p.StandardError.ReadToEndAsync();
        var o = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(2)));
        return (p.ExitCode, err.Result + o);
    }
}
