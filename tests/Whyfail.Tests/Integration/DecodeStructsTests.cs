using Xunit;

namespace Whyfail.Tests.Integration;

/// <summary>
/// keyctl, ioctl's struct ifreq and setsockopt's ip_mreq decoded from a real program's failing calls
/// (tests/programs/decode_structs.c), as strace 6.1 shows them.
/// </summary>
[Collection("tracing")]
[Trait("suite", "integration")]
public class DecodeStructsTests
{
    [Fact]
    public void KeyctlIfreqAndIpMreqAreDecoded()
    {
        var run = WhyfailRunner.Run("--no-explain", "--deep", "none", "--", WhyfailRunner.Program("decode_structs"));
        Assert.True(run.ExitCode == 0, run.ToString());

        var keyctl = Assert.Single(run.Failures("keyctl", "ENOKEY"));
        Assert.Equal(["KEYCTL_SEARCH", "KEY_SPEC_THREAD_KEYRING", "\"user\"", "\"whyfail-no-such-key\"", "0"],
            keyctl.GetProperty("args").EnumerateArray().Select(a => a.GetString()!).ToArray());

        var ioctl = Assert.Single(run.Failures("ioctl", "EBADF"));
        Assert.Equal("SIOCSIFMTU", ioctl.GetProperty("args")[1].GetString());
        Assert.Equal("{ifr_name=\"lo\", ifr_mtu=1400}", ioctl.GetProperty("args")[2].GetString());

        var sso = Assert.Single(run.Failures("setsockopt", "EBADF"));
        Assert.Equal("{imr_multiaddr=inet_addr(\"224.0.0.3\"), imr_interface=inet_addr(\"127.0.0.1\")}",
            sso.GetProperty("args")[3].GetString());
    }
}
