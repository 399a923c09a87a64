using Whyfail.Analysis.Seccomp;
using Whyfail.Decoding;
using Whyfail.Tracing.Inject;
using Xunit;

namespace Whyfail.Tests.Inject;

/// <summary>The --inject parser (strace's when= grammar) and the filter it compiles to, run in whyfail's classic BPF interpreter.</summary>
public class InjectRuleTests
{
    private static int Nr(string name) => SyscallTable.TryGetNumber(name, out int nr) ? nr : throw new ArgumentException(name);

    [Theory]
    [InlineData("3", new[] { 3 })]
    [InlineData("3+", new[] { 3, 4, 5, 6, 7, 8, 9, 10 })]
    [InlineData("2+3", new[] { 2, 5, 8 })]
    [InlineData("2..4", new[] { 2, 3, 4 })]
    [InlineData("2..9+3", new[] { 2, 5, 8 })]
    [InlineData("1+", new[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 })]
    public void When_selects_the_invocations_strace_documents(string when, int[] selected)
    {
        var rule = InjectParser.Parse($"write:error=EIO:when={when}");
        Assert.Equal(selected, Enumerable.Range(1, 10).Where(n => rule.When!.Selects(n)).ToArray());
    }

    [Fact]
    public void The_last_when_wins_and_every_call_is_plain()
    {
        var rule = InjectParser.Parse("write:error=ENOSPC:when=3:when=1+");
        Assert.True(rule.When!.Always);
        Assert.True(rule.Plain);
        Assert.False(InjectParser.Parse("write:retval=1").Plain);
        Assert.False(InjectParser.Parse("openat:error=EIO:path=/x").Plain);
    }

    [Fact]
    public void Negation_and_classes_expand_like_syscall()
    {
        var rule = InjectParser.Parse("!write,read:error=EPERM");
        Assert.DoesNotContain(Nr("write"), rule.Syscalls);
        Assert.DoesNotContain(Nr("read"), rule.Syscalls);
        Assert.Contains(Nr("openat"), rule.Syscalls);
        var file = InjectParser.Parse("%file:error=EACCES:path=/etc/*");
        Assert.Contains(Nr("openat"), file.Syscalls);
        Assert.All(file.Syscalls, nr => Assert.NotEmpty(InjectParser.PathArgs(nr))); // path= keeps the calls with a path
        Assert.Equal("/etc/*:x", InjectParser.Parse("openat:error=EIO:path=/etc/*:x").PathGlob); // a ':' inside the glob
    }

    [Fact]
    public void The_filter_fails_plain_calls_in_the_kernel_and_hands_conditional_ones_to_the_supervisor()
    {
        var filter = new InjectFilter(InjectParser.ParseAll(["mkdir:error=EROFS", "openat:error=EACCES:path=/x", "mkdir:error=EIO"]));
        Assert.True(filter.NeedsSupervisor);
        uint Run(int nr, uint arch = SeccompData.AuditArchX86_64) => filter.Program.Run(new SeccompData(nr, arch, 0, new ulong[6])).Value;
        Assert.Equal(InjectFilter.RetErrno | 30u /* EROFS */, Run(Nr("mkdir"))); // the first rule naming a call decides
        Assert.Equal(InjectFilter.RetUserNotif, Run(Nr("openat")));
        Assert.Equal(InjectFilter.RetUserNotif, Run(Nr("execve"))); // holds the first exec until whyfail has the descriptor
        Assert.Equal(InjectFilter.RetAllow, Run(Nr("read")));
        Assert.Equal(InjectFilter.RetAllow, Run(Nr("mkdir"), SeccompData.AuditArchI386)); // other ABIs are left alone
        Assert.NotNull(filter.PlainRuleFor(Nr("mkdir"), 30));
        Assert.Null(filter.PlainRuleFor(Nr("mkdir"), 5));
        Assert.True(InjectFilter.TryDecode(filter.Encode(), out uint flags, out var bytes));
        Assert.Equal(InjectFilter.FlagNewListener, flags);
        Assert.Equal(filter.Program.ToBytes(), bytes);

        var plain = new InjectFilter(InjectParser.ParseAll(["mkdir:error=EROFS"]));
        Assert.False(plain.NeedsSupervisor);
        Assert.Equal(InjectFilter.RetAllow, plain.Program.Run(new SeccompData(Nr("execve"), SeccompData.AuditArchX86_64, 0, new ulong[6])).Value);
    }

    [Theory]
    [InlineData("*/b.txt", "/tmp/x/b.txt", true)]
    [InlineData("/tmp/*", "/tmp/x/b.txt", true)]
    [InlineData("/tmp/?.txt", "/tmp/b.txt", true)]
    [InlineData("/tmp/[ab].txt", "/tmp/c.txt", false)]
    [InlineData("b.txt", "/tmp/b.txt", false)]
    public void Path_globs_are_fnmatch_without_flags(string glob, string path, bool match) =>
        Assert.Equal(match, InjectSupervisor.Glob(glob, path));
}
