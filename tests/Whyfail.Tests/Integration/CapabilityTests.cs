using System.Text.Json;
using Xunit;

namespace Whyfail.Tests.Integration;

/// <summary>
/// Capability denials as evidence and explanation: a real program run as nobody calls chroot, which needs
/// CAP_SYS_CHROOT. On the host (6.18) they come from the capability:cap_capable tracepoint (Linux 6.14+); in
/// the lab's 6.1 and 6.12, which lack it, from fexit on cap_capable (and, forced, from its kprobe+kretprobe
/// fallback: <see cref="CapabilityKprobeTests"/>). The same assertions hold for every source.
/// </summary>
[Collection("tracing")]
[Trait("suite", "integration")]
public class CapabilityTests
{
    internal static void AssertChrootDenied(WhyfailRun run)
    {
        Assert.True(run.ExitCode == 125, run.ToString()); // chroot(1): "cannot change root directory"
        var ev = Assert.Single(run.Failures("chroot", "EPERM"));
        var cap = Assert.Single(ev.GetProperty("evidence").EnumerateArray(), x => x.GetProperty("kind").GetString() == "capability");
        Assert.Equal("CAP_SYS_CHROOT", cap.GetProperty("capability").GetString());
        Assert.Equal(65534, cap.GetProperty("euid").GetInt32());
        Assert.Equal(0, cap.GetProperty("userns_level").GetInt32());
        Assert.Equal(0, cap.GetProperty("userns_owner").GetInt32());
        var why = Assert.Single(ev.GetProperty("explanation").EnumerateArray(), x => x.GetProperty("rule").GetString() == "capability.denied");
        Assert.Matches(@"^chroot needs CAP_SYS_CHROOT in the initial user namespace, and pid \d+ \(euid 65534\) does not have it$", why.GetProperty("text").GetString());
        Assert.StartsWith("run it as root, or give the program CAP_SYS_CHROOT (setcap cap_sys_chroot+ep PROGRAM", why.GetProperty("fix").GetString());
        Assert.True(why.GetProperty("certain").GetBoolean());
        Assert.DoesNotContain(ev.GetProperty("explanation").EnumerateArray(), x => x.GetProperty("rule").GetString() == "unknown");
    }

    /// <summary>
    /// One run as nobody, with successful calls shown (--all): chmod g+s of a file nobody owns but whose group
    /// (root) nobody is not in succeeds — the kernel checks CAP_FSETID, is told no, and silently drops the
    /// setgid bit — then chroot fails. Only the failing call carries capability evidence.
    /// </summary>
    internal static void AssertOnlyFailingCallsCarryDenials(IDictionary<string, string>? env = null)
    {
        var dir = Directory.CreateTempSubdirectory("whyfail-cap-");
        try
        {
            dir.UnixFileMode = (UnixFileMode)0x1ed; // 0755
            string file = Path.Combine(dir.FullName, "f");
            File.WriteAllText(file, "x");
            using (var chown = System.Diagnostics.Process.Start("chown", ["65534:0", file]))
            {
                chown.WaitForExit();
                Assert.Equal(0, chown.ExitCode);
            }
            string script = $"/bin/chmod 2755 '{file}' && exec /usr/sbin/chroot / /bin/true";
            var run = WhyfailRunner.Run(["--all", "-u", "nobody", "--", "/bin/sh", "-c", script], TimeSpan.FromMinutes(5), env: env);
            // The kernel really checked CAP_FSETID and was told no: the setgid bit is gone.
            Assert.Equal((UnixFileMode)0x1ed, File.GetUnixFileMode(file));
            var chmod = Assert.Single(run.Syscalls, l => l.GetProperty("syscall").GetString() == "fchmodat" && l.GetProperty("args")[1].GetString() == $"\"{file}\"");
            Assert.Equal(0, chmod.GetProperty("ret").GetInt64());
            Assert.DoesNotContain(chmod.GetProperty("evidence").EnumerateArray(), x => x.GetProperty("kind").GetString() == "capability");
            // No successful call at all carries a denial (mmap's and brk's CAP_SYS_ADMIN checks, for one).
            Assert.All(run.Syscalls.Where(l => l.GetProperty("ret").GetInt64() >= 0), l =>
                Assert.DoesNotContain(l.GetProperty("evidence").EnumerateArray(), x => x.GetProperty("kind").GetString() == "capability"));
            AssertChrootDenied(new WhyfailRun { ExitCode = run.ExitCode, Stdout = run.Stdout, Stderr = run.Stderr, Lines = run.Lines });
        }
        finally
        {
            dir.Delete(true);
        }
    }

    [Fact]
    public void Chroot_as_nobody_names_cap_sys_chroot()
    {
        AssertChrootDenied(WhyfailRunner.Run("-u", "nobody", "--", "/usr/sbin/chroot", "/", "/bin/true"));
    }

    /// <summary>
    /// Writing /proc/sys/kernel/ns_last_pid (mode 0666) as nobody: the kernel checks CAP_SYS_ADMIN, then
    /// CAP_CHECKPOINT_RESTORE (checkpoint_restore_ns_capable), and either would do. One sentence names both as
    /// alternatives, and the fix suggests the narrow one, not CAP_SYS_ADMIN.
    /// </summary>
    [Fact]
    public void Alternative_capabilities_are_one_sentence_and_the_fix_names_the_narrow_one()
    {
        var run = WhyfailRunner.Run(["-u", "nobody", "--", WhyfailRunner.Program("write_file"), "/proc/sys/kernel/ns_last_pid", "5"], TimeSpan.FromMinutes(5));
        Assert.True(run.ExitCode == 1, run.ToString());
        var ev = Assert.Single(run.Failures("write", "EPERM"));
        var caps = ev.GetProperty("evidence").EnumerateArray().Where(x => x.GetProperty("kind").GetString() == "capability")
            .Select(x => x.GetProperty("capability").GetString()).ToHashSet();
        Assert.Equal(["CAP_CHECKPOINT_RESTORE", "CAP_SYS_ADMIN"], caps.Order());
        var why = Assert.Single(ev.GetProperty("explanation").EnumerateArray(), x => x.GetProperty("rule").GetString() == "capability.denied");
        Assert.Matches(@"^write needs CAP_(SYS_ADMIN or CAP_CHECKPOINT_RESTORE|CHECKPOINT_RESTORE or CAP_SYS_ADMIN) in the initial user namespace \(the kernel checked both\), and pid \d+ \(euid 65534\) has neither$",
            why.GetProperty("text").GetString());
        Assert.StartsWith("run it as root, or give the program one of them, the narrowest being CAP_CHECKPOINT_RESTORE (setcap cap_checkpoint_restore+ep PROGRAM",
            why.GetProperty("fix").GetString());
    }

    [Fact]
    public void A_denial_inside_a_successful_call_is_not_evidence()
    {
        AssertOnlyFailingCallsCarryDenials();
    }

    /// <summary>doctor names the source this kernel gives: the tracepoint where it exists, else fexit (the lab allows it).</summary>
    [Fact]
    public void Doctor_names_the_capability_source()
    {
        using var p = System.Diagnostics.Process.Start(WhyfailRunner.StartInfo(["doctor", "--json"]))!;
        string json = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
        var doc = JsonDocument.Parse(json).RootElement;
        var source = doc.GetProperty("capability evidence");
        Assert.True(source.GetProperty("ok").GetBoolean(), source.ToString());
        bool tracepoint = Directory.Exists("/sys/kernel/tracing/events/capability/cap_capable");
        Assert.StartsWith(tracepoint ? "tracepoint: " : "fexit: fexit on cap_capable", source.GetProperty("detail").GetString());
    }
}

/// <summary>The kprobe+kretprobe fallback, forced (the lab's kernels would pick fexit), gives the same evidence.</summary>
[Collection("tracing")]
[Trait("kernel", "lab")]
public class CapabilityKprobeTests
{
    private static readonly Dictionary<string, string> Kprobe = new() { ["WHYFAIL_CAPABILITY_SOURCE"] = "kprobe" };

    [Fact]
    public void Chroot_as_nobody_names_cap_sys_chroot_through_kprobes()
    {
        var run = WhyfailRunner.Run(["-u", "nobody", "--", "/usr/sbin/chroot", "/", "/bin/true"], TimeSpan.FromMinutes(5), env: Kprobe);
        Assert.DoesNotContain(run.Lines, l => l.GetProperty("type").GetString() == "notice" && l.GetProperty("text").GetString()!.Contains("capability evidence"));
        CapabilityTests.AssertChrootDenied(run);
    }

    [Fact]
    public void A_denial_inside_a_successful_call_is_not_evidence_through_kprobes()
    {
        CapabilityTests.AssertOnlyFailingCallsCarryDenials(Kprobe);
    }
}
