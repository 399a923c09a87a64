using System.Diagnostics;
using System.Text.Json;
using Whyfail.Tests.Integration;
using Xunit;

namespace Whyfail.Tests.Lsm;

/// <summary>
/// AppArmor denials as evidence (the lab's Debian 6.1 and 6.12 kernels run AppArmor; the host's kernel does not):
/// a small profile is loaded with apparmor_parser, a real program confined by it (aa-exec) fails with EACCES, and
/// whyfail names the profile, the operation and the path from the kernel's audit record.
/// </summary>
[Collection("tracing")]
[Trait("kernel", "lab")]
public class AppArmorTests
{
    private static string Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var o = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{file} {string.Join(' ', args)}: {o}");
        return o;
    }

    [Fact]
    public void A_file_denied_by_a_profile_names_the_profile_the_operation_and_the_path()
    {
        Assert.Equal("Y", File.ReadAllText("/sys/module/apparmor/parameters/enabled").Trim());
        var dir = Directory.CreateTempSubdirectory("wf-lsm-");
        var profile = $"wf-test-{Guid.NewGuid():N}"[..20];
        var secret = Path.Combine(dir.FullName, "wf-lsm-secret.txt");
        File.WriteAllText(secret, "secret\n");
        var policy = Path.Combine(dir.FullName, "profile");
        // Everything allowed except files named wf-lsm-secret*; "audit deny" because plain deny rules are not logged.
        File.WriteAllText(policy, $"abi <abi/3.0>,\nprofile {profile} {{\n  /** rmix,\n  audit deny /**/wf-lsm-secret* rw,\n}}\n");
        Run("apparmor_parser", "-r", policy);
        try
        {
            var run = WhyfailRunner.Run(["--", "aa-exec", "-p", profile, "--", "cat", secret], TimeSpan.FromMinutes(5));
            Assert.True(run.ExitCode == 1, run.ToString());
            var ev = Assert.Single(run.Failures("openat", "EACCES"));
            var lsm = Assert.Single(ev.GetProperty("evidence").EnumerateArray(), x => x.GetProperty("kind").GetString() == "lsm");
            Assert.Equal("apparmor", lsm.GetProperty("lsm").GetString());
            Assert.Equal(profile, lsm.GetProperty("profile").GetString());
            Assert.Equal("open", lsm.GetProperty("operation").GetString());
            Assert.EndsWith(secret, lsm.GetProperty("object").GetString());
            Assert.Equal("r", lsm.GetProperty("denied").GetString());
            var why = Assert.Single(ev.GetProperty("explanation").EnumerateArray(), x => x.GetProperty("rule").GetString() == "lsm.denied");
            var text = why.GetProperty("text").GetString()!;
            Assert.Contains($"the AppArmor profile \"{profile}\" confining pid", text);
            Assert.Contains("denied \"open\" on \"", text);
            Assert.Contains(secret + "\"", text);
            Assert.Contains("apparmor_parser -r", why.GetProperty("fix").GetString());
            Assert.True(why.GetProperty("certain").GetBoolean()); // kernel evidence: certain even when cat has exited
            Assert.DoesNotContain(ev.GetProperty("explanation").EnumerateArray(), x => x.GetProperty("rule").GetString() == "unknown");
        }
        finally
        {
            Run("apparmor_parser", "-R", policy);
            dir.Delete(true);
        }
    }
}
