using System.Reflection;
using Whyfail.Analysis.Explain;
using Whyfail.Decoding;
using Xunit;

namespace Whyfail.Tests.Explain;

/// <summary>The explanation rules' errno constants and names agree with the generated errno table.</summary>
public class ErrnosTests
{
    [Fact]
    public void EveryConstantIsTheTablesValue()
    {
        var consts = typeof(Errnos).GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral).ToList();
        Assert.True(consts.Count > 50);
        foreach (var f in consts)
        {
            Assert.True(Errno.TryParse(f.Name, out int value), $"{f.Name} is not in the errno table");
            Assert.Equal(value, (int)f.GetRawConstantValue()!);
        }
    }

    [Theory]
    [InlineData(42, "ENOMSG")]       // was "errno 42" in sentences while the call line said ENOMSG
    [InlineData(2, "ENOENT")]
    [InlineData(11, "EAGAIN")]
    [InlineData(95, "EOPNOTSUPP")]
    [InlineData(133, "EHWPOISON")]
    [InlineData(512, "ERESTARTSYS")]
    [InlineData(524, "ENOTSUPP")]
    [InlineData(4000, "errno 4000")]
    public void NamesComeFromTheTable(int errno, string name) => Assert.Equal(name, Errnos.Name(errno));

    [Fact]
    public void EveryErrnoTheCallLineNamesHasTheSameNameInSentences()
    {
        for (int e = 1; e < 600; e++)
            if (Errno.Name(e) is { } n) Assert.Equal(n, Errnos.Name(e));
    }
}

/// <summary>The rules' capability constants and names agree with the generated capability table.</summary>
public class CapTests
{
    [Fact]
    public void EveryConstantIsTheTablesValue()
    {
        var consts = typeof(Cap).GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral).ToList();
        Assert.True(consts.Count >= 13);
        foreach (var f in consts)
        {
            Assert.True(Capabilities.TryParse("CAP_" + f.Name, out int value), $"CAP_{f.Name} is not in the capability table");
            Assert.Equal(value, (int)f.GetRawConstantValue()!);
        }
    }

    [Theory]
    [InlineData(21, "CAP_SYS_ADMIN")]
    [InlineData(38, "CAP_PERFMON")]   // not a constant of the rules, named all the same
    [InlineData(99, "capability 99")]
    public void NamesComeFromTheTable(int cap, string name) => Assert.Equal(name, Cap.Name(cap));
}
