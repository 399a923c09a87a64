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

    [Fact]
    public void A_command_whose_own_exec_failed_is_said_never_to_have_become_the_program()
    {
        var exec = new SyscallEvent { Pid = 7, Tid = 7, Comm = "whyfail-launch", Syscall = "execve", Nr = 59, Ret = -13 };
        var v = new VerdictReport { Pid = 7, Comm = "report-tool", ExitStatus = 126, Culprits = [exec] };
        Assert.Equal("pid 7 never became report-tool: its exec failed; then it exited with status 126", VerdictText.Consequence(exec, v));
        var later = new SyscallEvent { Pid = 7, Tid = 7, Comm = "cat", Syscall = "openat", Nr = 257, Ret = -2 };
        Assert.Equal("the last failure pid 7 (cat) did not recover from; then it exited with status 1",
            VerdictText.Consequence(later, new VerdictReport { Pid = 7, Comm = "cat", ExitStatus = 1, Culprits = [later] }));
    }
}
