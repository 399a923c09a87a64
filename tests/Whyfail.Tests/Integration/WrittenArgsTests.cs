using Xunit;

namespace Whyfail.Tests.Integration;

/// <summary>
/// What the capture copies for the memory and exec decoders, end to end (tests/programs/written_args.c, one run): the
/// data of written iovecs (second-level copies, up to 8 elements), argv with an unreadable string pointer and argv running
/// into an unmapped page (bpf capture_strv), envp counted but never copied, an in/out argument in the third position
/// (name_to_handle_at's handle_bytes, copied at sys_enter too), a node mask read by maxnode, and clone3's set_tid array.
/// </summary>
[Collection("tracing")]
[Trait("suite", "integration")]
public class WrittenArgsTests
{
    [Fact]
    public void WrittenDataArgvEnvpAndInOutArgumentsAreShownAsTheProgramPassedThem()
    {
        var run = WhyfailRunner.Run("--no-explain", "--deep", "none", "--", WhyfailRunner.Program("written_args"));
        Assert.True(run.ExitCode == 0, run.ToString());
        string Arg(System.Text.Json.JsonElement e, int i) => e.GetProperty("args")[i].GetString()!;

        var writev = Assert.Single(run.Failures("writev", "EBADF"));
        Assert.Equal("[{iov_base=\"abc\", iov_len=3}, {iov_base=\"de\", iov_len=2}]", Arg(writev, 1));
        var pwritev = Assert.Single(run.Failures("pwritev", "EFAULT"));
        Assert.Matches(@"^\[\{iov_base=""xyz"", iov_len=3\}, \.\.\. /\* 0x[0-9a-f]+000 \*/\]$", Arg(pwritev, 1));

        // execve fails with ENOENT on kernels that open the program first (6.7+), EFAULT on those that copy argv first.
        var execs = run.Syscalls.Where(l => l.GetProperty("syscall").GetString() == "execve").ToList();
        Assert.True(execs.Count == 2, run.ToString());
        Assert.Equal("[\"whyfail-argv0\", 0xffffffffffffffff]", Arg(execs[0], 1));
        Assert.Matches(@"^0x[0-9a-f]+ /\* 2 vars \*/$", Arg(execs[0], 2));
        Assert.DoesNotContain("hunter2", run.Stdout);
        Assert.Matches(@"^\[""edge"", \.\.\. /\* 0x[0-9a-f]+000 \*/\]$", Arg(execs[1], 1));
        Assert.Equal("NULL", Arg(execs[1], 2));

        // devtmpfs (shmem) handles need 12 bytes; whatever the file system, the size written back differs from 0.
        var fh = Assert.Single(run.Failures("name_to_handle_at", "EOVERFLOW"));
        Assert.Matches(@"^\{handle_bytes=0 => [1-9][0-9]*\}$", Arg(fh, 2));

        var mempolicy = Assert.Single(run.Failures("set_mempolicy", "EFAULT"));
        Assert.Matches(@"^\[0000000000000001, \.\.\. /\* 0x[0-9a-f]+000 \*/\]$", Arg(mempolicy, 1));

        var clone3 = Assert.Single(run.Failures("clone3", "EINVAL"));
        Assert.Equal("{flags=0, exit_signal=65535, stack=NULL, stack_size=0, set_tid=[1, 2], set_tid_size=2}", Arg(clone3, 0));
    }
}
