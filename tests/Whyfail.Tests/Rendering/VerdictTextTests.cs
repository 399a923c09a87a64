using Whyfail.Events;
using Whyfail.Rendering;
using Xunit;

namespace Whyfail.Tests.Rendering;

/// <summary>The verdict's headline counts its folded routine failures in words that agree with the number.</summary>
public class VerdictTextTests
{
    private static VerdictReport Report(long routine) => new()
    {
        Pid = 42,
        Comm = "cat",
        ExitStatus = 1,
        Culprits = [new SyscallEvent { Pid = 42, Tid = 42, Comm = "cat", Syscall = "openat", Nr = 257, Ret = -13 }],
        Routine = routine,
    };

    [Theory]
    [InlineData(1, "cat (pid 42) exited with status 1 after this failure (1 routine one folded):")]
    [InlineData(17, "cat (pid 42) exited with status 1 after this failure (17 routine ones folded):")]
    [InlineData(0, "cat (pid 42) exited with status 1 after this failure:")]
    public void Folded_routine_failures_are_counted_in_agreeing_words(long routine, string headline) =>
        Assert.Equal(headline, VerdictText.Headline(Report(routine)));
}
