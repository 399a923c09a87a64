using System.Text.Json;
using Whyfail.Analysis.Evidence;
using Whyfail.Tests.Integration;
using Xunit;

namespace Whyfail.Tests.Lsm;

/// <summary>
/// Landlock denials as evidence, on the host's kernel (6.18: Landlock is active and logs denials to audit since
/// Linux 6.15, ABI 7; the lab's 6.1 and 6.12 kernels do not). A real program sandboxes itself
/// (tests/programs/landlock_deny) and is refused a file outside its allowed directory, or a TCP bind; whyfail
/// names the domain, who created it, the blocked right and the object from the kernel's audit records.
///
/// Landlock logs only while audit is enabled, and it is disabled on this host (no auditd, no audit=1): these tests
/// enable it for their run (AUDIT_SET, as auditctl -e 1 does) and put the old state back; the kernel keeps giving new
/// tasks an audit context once audit has ever been enabled, which costs a little per system call and changes
/// nothing else. On a machine where audit is locked off, or without Landlock ABI 7, they fail and say so.
/// </summary>
[Collection("tracing")]
[Trait("kernel", "host")]
public class LandlockTests
{
    private static readonly string Program = WhyfailRunner.Program("landlock_deny");

    private static void RequireLandlockAudit()
    {
        const string list = "/sys/kernel/security/lsm";
        Assert.True(File.Exists(list), $"{list} is missing: securityfs is not mounted (test.sh mounts it: mount -t securityfs securityfs /sys/kernel/security)");
        var lsms = File.ReadAllText(list);
        Assert.True(lsms.Split(',').Contains("landlock"), $"Landlock is not an active LSM on this kernel ({lsms}): these tests need it (CONFIG_SECURITY_LANDLOCK and lsm=…,landlock)");
    }

    /// <summary>Runs <paramref name="body"/> with audit enabled, restoring the previous state.</summary>
    private static void WithAudit(Action body)
    {
        var before = AuditStatus.Query(out var why);
        Assert.True(before is not null, $"cannot read the audit state: {why}");
        bool changed = false;
        if (before!.Enabled == 0)
        {
            Assert.True(AuditStatus.SetEnabled(1, out var err), $"cannot enable audit for the test: {err}");
            changed = true;
        }
        try
        {
            Assert.NotEqual(0u, AuditStatus.Query(out _)?.Enabled ?? 0);
            body();
        }
        finally
        {
            if (changed) AuditStatus.SetEnabled(0, out _);
        }
    }

    private static (JsonElement Ev, JsonElement Lsm, JsonElement Why) Denial(WhyfailRun run, string syscall)
    {
        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Matches(@"abi ([7-9]|\d\d+) pid", run.Stdout); // ABI 7 (Linux 6.15) is the first to log to audit
        var ev = Assert.Single(run.Failures(syscall, "EACCES"));
        var evidence = ev.GetProperty("evidence").EnumerateArray().Where(x => x.GetProperty("kind").GetString() == "lsm").ToList();
        Assert.True(evidence.Count == 1, $"expected one Landlock denial as evidence of {syscall}: {ev}\n{run}");
        var why = Assert.Single(ev.GetProperty("explanation").EnumerateArray(), x => x.GetProperty("rule").GetString() == "lsm.denied");
        Assert.True(why.GetProperty("certain").GetBoolean());
        Assert.DoesNotContain(ev.GetProperty("explanation").EnumerateArray(), x => x.GetProperty("rule").GetString() == "unknown");
        return (ev, evidence[0], why);
    }

    private static ulong Inode(string path)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%i", path]) { RedirectStandardOutput = true };
        using var p = System.Diagnostics.Process.Start(psi)!;
        var o = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return ulong.Parse(o.Trim());
    }

    /// <summary>An allowed directory and a file outside it, in a fresh temporary directory.</summary>
    private static void WithSecret(Action<string, string> body)
    {
        var dir = Directory.CreateTempSubdirectory("wf-landlock-");
        try
        {
            var allowed = Directory.CreateDirectory(Path.Combine(dir.FullName, "allowed")).FullName;
            var secret = Path.Combine(dir.FullName, "secret.txt");
            File.WriteAllText(secret, "secret\n");
            body(allowed, secret);
        }
        finally
        {
            dir.Delete(true);
        }
    }

    [Fact]
    public void A_file_outside_the_sandbox_names_the_domain_its_creator_the_right_and_the_path()
    {
        RequireLandlockAudit();
        WithSecret((allowed, secret) =>
        {
            // With audit off (this host's normal state) Landlock logs nothing, and whyfail says why it has no evidence.
            if (AuditStatus.Query(out _) is { Enabled: 0 })
            {
                var off = WhyfailRunner.Run("--", Program, "fs", allowed, secret);
                Assert.True(off.ExitCode == 1, off.ToString());
                Assert.Contains(off.Lines, l => l.GetProperty("type").GetString() == "notice"
                    && l.GetProperty("text").GetString()!.Contains("audit is disabled, and Landlock"));
                var ev = Assert.Single(off.Failures("openat", "EACCES"));
                Assert.Empty(ev.GetProperty("evidence").EnumerateArray());
            }

            WithAudit(() =>
            {
                var run = WhyfailRunner.Run("--", Program, "fs", allowed, secret);
                var (ev, lsm, why) = Denial(run, "openat");
                int pid = ev.GetProperty("pid").GetInt32();
                Assert.Equal("landlock", lsm.GetProperty("lsm").GetString());
                Assert.Equal("fs.read_file", lsm.GetProperty("operation").GetString());
                Assert.Equal(["fs.read_file"], lsm.GetProperty("blockers").EnumerateArray().Select(b => b.GetString()));
                Assert.Equal(secret, lsm.GetProperty("object").GetString());
                Assert.Equal(Inode(secret), lsm.GetProperty("ino").GetUInt64());
                Assert.Equal(pid, lsm.GetProperty("pid").GetInt32());
                Assert.Equal(pid, lsm.GetProperty("domain_pid").GetInt32());
                Assert.Equal(Program, lsm.GetProperty("domain_exe").GetString());
                var domain = lsm.GetProperty("domain").GetString()!;
                Assert.Matches("^[0-9a-f]+$", domain);
                Assert.Contains($"domain={domain} status=allocated", lsm.GetProperty("domain_record").GetString());

                Assert.Equal($"pid {pid} (\"{Program}\") sandboxed itself with Landlock (domain {domain}) and its rules do not allow fs.read_file on \"{secret}\"",
                    why.GetProperty("text").GetString());
                Assert.Contains($"LANDLOCK_RULE_PATH_BENEATH rule granting fs.read_file on \"{secret}\" or a directory above it to the ruleset \"{Program}\" builds",
                    why.GetProperty("fix").GetString());

                // The sandbox is real: the allowed directory opened.
                Assert.Contains("open-allowed 0\n", run.Stdout);
            });
        });
    }

    [Fact]
    public void A_child_that_inherited_the_domain_is_told_who_created_it()
    {
        RequireLandlockAudit();
        WithSecret((allowed, secret) => WithAudit(() =>
        {
            var run = WhyfailRunner.Run("--", Program, "fs-child", allowed, secret);
            var (ev, lsm, why) = Denial(run, "openat");
            int pid = ev.GetProperty("pid").GetInt32();
            int creator = int.Parse(run.Stdout.Split('\n').Single(l => l.StartsWith("creator ")).Split(' ')[1]);
            Assert.NotEqual(creator, pid);
            Assert.Equal(pid, lsm.GetProperty("pid").GetInt32());
            Assert.Equal(creator, lsm.GetProperty("domain_pid").GetInt32());
            var domain = lsm.GetProperty("domain").GetString();
            Assert.Equal($"pid {pid} runs in the Landlock domain {domain}, created by pid {creator} (\"{Program}\") and inherited from it, and its rules do not allow fs.read_file on \"{secret}\"",
                why.GetProperty("text").GetString());
        }));
    }

    [Fact]
    public void A_tcp_bind_without_a_port_rule_names_the_address_and_the_port_rule_to_add()
    {
        RequireLandlockAudit();
        WithAudit(() =>
        {
            const string port = "4099"; // never bound: Landlock refuses before the port is looked at
            var run = WhyfailRunner.Run("--", Program, "net", port);
            var (ev, lsm, why) = Denial(run, "bind");
            int pid = ev.GetProperty("pid").GetInt32();
            Assert.Equal("landlock", lsm.GetProperty("lsm").GetString());
            Assert.Equal(["net.bind_tcp"], lsm.GetProperty("blockers").EnumerateArray().Select(b => b.GetString()));
            Assert.Equal($"127.0.0.1:{port}", lsm.GetProperty("object").GetString());
            Assert.Equal(pid, lsm.GetProperty("domain_pid").GetInt32());
            Assert.StartsWith($"pid {pid} (\"{Program}\") sandboxed itself with Landlock (domain ", why.GetProperty("text").GetString());
            Assert.EndsWith($"its rules do not allow net.bind_tcp on \"127.0.0.1:{port}\"", why.GetProperty("text").GetString());
            Assert.StartsWith($"add a LANDLOCK_RULE_NET_PORT rule granting net.bind_tcp for port {port} to the ruleset \"{Program}\" builds",
                why.GetProperty("fix").GetString());
        });
    }
}
