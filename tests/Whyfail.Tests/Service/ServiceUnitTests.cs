using System.Text;
using System.Text.Json;
using Whyfail.Metrics;
using Whyfail.Rendering;
using Xunit;

namespace Whyfail.Tests.Service;

public class ServiceUnitTests
{
    [Fact]
    public void JsonKeepsQuotesReadableAndEscapesMarkupControlAndNonAscii()
    {
        var ms = new MemoryStream();
        var lines = new JsonLines(ms);
        string hostile = "a\"b\\c<d>&'+ \u001b[31m\u007f\n\té😀";
        lines.Notice(hostile);
        string line = Encoding.UTF8.GetString(ms.ToArray());
        Assert.Equal("{\"type\":\"notice\",\"text\":\"a\\\"b\\\\c\\u003Cd\\u003E\\u0026\\u0027\\u002B \\u001B[31m\\u007F\\n\\t\\u00E9\\uD83D\\uDE00\"}\n", line);
        Assert.All(line, c => Assert.True(c < 0x7f, $"non-ASCII {(int)c}"));
        Assert.Equal(hostile, JsonDocument.Parse(line).RootElement.GetProperty("text").GetString());
    }

    [Theory]
    [InlineData("127.0.0.1:9464", "127.0.0.1", 9464, "127.0.0.1")]
    [InlineData(":9464", "", 9464, "+")]
    [InlineData("9464", "", 9464, "+")]
    [InlineData("0.0.0.0:1", "0.0.0.0", 1, "+")]
    [InlineData("[::1]:9100", "::1", 9100, "[::1]")]
    [InlineData("localhost:9100", "localhost", 9100, "localhost")]
    public void MetricsEndpointsParse(string text, string host, int port, string listenerHost)
    {
        var e = MetricsEndpoint.Parse(text);
        Assert.Equal((host, port, listenerHost), (e.Host, e.Port, e.ListenerHost));
    }

    [Theory]
    [InlineData("127.0.0.1:0")]
    [InlineData("127.0.0.1:70000")]
    [InlineData("::1:9100")]
    [InlineData("example.com:9100")]
    [InlineData("127.0.0.1:")]
    public void BadMetricsEndpointsAreUsageErrors(string text)
    {
        var e = Assert.Throws<WhyfailException>(() => MetricsEndpoint.Parse(text));
        Assert.Equal(ExitCodes.Usage, e.ExitCode);
    }

    [Fact]
    public void ABoundedLabelKeepsItsFirstValuesAndCountsTheRestAsOther()
    {
        var l = new BoundedLabel(2);
        Assert.Equal(["sshd", "cron", "other", "sshd", "other"], new[] { "sshd", "cron", "nginx", "sshd", "bash" }.Select(l.Map));
    }
}

public class ContainerNameTests
{
    private const string Id = "3f2a9c1e0b7d4a5f8e6c2b1a0d9f8e7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f10";

    [Theory]
    [InlineData("/system.slice/docker-" + Id + ".scope", "docker", null, null)]
    [InlineData("/docker/" + Id, "docker", null, null)]
    [InlineData("/machine.slice/libpod-" + Id + ".scope/container", "podman", null, null)]
    [InlineData("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1b2c3d4e_5f60_4a1b_9c2d_3e4f5a6b7c8d.slice/cri-containerd-" + Id + ".scope",
        "containerd", "1b2c3d4e-5f60-4a1b-9c2d-3e4f5a6b7c8d", null)]
    [InlineData("/kubepods/burstable/pod1b2c3d4e-5f60-4a1b-9c2d-3e4f5a6b7c8d/" + Id, "kubernetes", "1b2c3d4e-5f60-4a1b-9c2d-3e4f5a6b7c8d", null)]
    [InlineData("/system.slice/crio-" + Id + ".scope", "cri-o", null, null)]
    [InlineData("/system.slice/nginx.service", null, null, "nginx.service")]
    [InlineData("/user.slice/user-1000.slice/session-2.scope", null, null, null)]
    public void CgroupPathsNameTheirContainerOrService(string path, string? runtime, string? pod, string? service)
    {
        var c = Whyfail.Analysis.Cgroups.ContainerNames.Describe(path);
        Assert.Equal(path, c.Path);
        Assert.Equal((runtime, runtime == null ? null : Id, pod, service), (c.Runtime, c.ContainerId, c.Pod, c.Service));
    }
}
