using Xunit;

namespace Whyfail.Tests.Integration;

/// <summary>
/// Capability denials as evidence and explanation (capability:cap_capable, Linux 6.14+: the host, not the lab's
/// 6.1/6.12): a real program run as nobody calls chroot, which needs CAP_SYS_CHROOT.
/// </summary>
[Collection("tracing")]
[Trait("suite", "integration")]
[Trait("lab", "skip")]
public class CapabilityTests
{
    [Fact]
    public void Chroot_as_nobody_names_cap_sys_chroot()
    {
        var run = WhyfailRunner.Run("-u", "nobody", "--", "/usr/sbin/chroot", "/", "/bin/true");
        Assert.True(run.ExitCode == 125, run.ToString()); // chroot(1): "cannot change root directory"
        var ev = Assert.Single(run.Failures("chroot", "EPERM"));
        var cap = Assert.Single(ev.GetProperty("evidence").EnumerateArray(), x => x.GetProperty("kind").GetString() == "capability");
        Assert.Equal("CAP_SYS_CHROOT", cap.GetProperty("capability").GetString());
        var why = Assert.Single(ev.GetProperty("explanation").EnumerateArray(), x => x.GetProperty("rule").GetString() == "capability.denied");
        Assert.Matches(@"^chroot needs CAP_SYS_CHROOT in the initial user namespace, and pid \d+ \(euid 65534\) does not have it$", why.GetProperty("text").GetString());
        Assert.StartsWith("run it as root, or give the program CAP_SYS_CHROOT (setcap cap_sys_chroot+ep PROGRAM", why.GetProperty("fix").GetString());
        Assert.True(why.GetProperty("certain").GetBoolean());
        Assert.DoesNotContain(ev.GetProperty("explanation").EnumerateArray(), x => x.GetProperty("rule").GetString() == "unknown");
    }
}
