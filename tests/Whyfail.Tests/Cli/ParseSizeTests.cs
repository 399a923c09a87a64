using Whyfail.Cli;
using Xunit;

namespace Whyfail.Tests.Cli;

public class ParseSizeTests
{
    [Theory]
    [InlineData("4K", 4096)]
    [InlineData("4096", 4096)]
    [InlineData("16M", 16 << 20)]
    [InlineData(" 256m ", 256 << 20)]
    [InlineData("1G", 1 << 30)]
    [InlineData("1048576K", 1 << 30)]
    [InlineData("5000", 5000)] // the ring buffer is rounded up to a power of two when it is created (said in --help)
    public void Sizes(string text, int bytes) => Assert.Equal(bytes, WhyfailCli.ParseSize(text));

    [Theory]
    [InlineData("2G", "'2G' is more than the largest ring buffer, 1G")]
    [InlineData("1025M", "'1025M' is more than the largest ring buffer, 1G")]
    [InlineData("99999999999G", "is more than")]
    [InlineData("4095", "'4095' is less than the smallest ring buffer, 4K (one page)")]
    [InlineData("0K", "is less than")]
    [InlineData("-1M", "'-1M' is not a size")]
    [InlineData("G", "'G' is not a size")]
    [InlineData("1.5M", "'1.5M' is not a size")]
    [InlineData("", "'' is not a size")]
    public void Refused(string text, string message)
    {
        var e = Assert.Throws<WhyfailException>(() => WhyfailCli.ParseSize(text));
        Assert.Equal(ExitCodes.Usage, e.ExitCode);
        Assert.Contains(message, e.Message);
    }
}
