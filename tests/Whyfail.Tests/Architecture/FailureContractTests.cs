using Whyfail.Analysis.Explain;
using Whyfail.Analysis.Origin.Kernel;
using Whyfail.Analysis.Seccomp;
using Whyfail.Cli;
using Whyfail.Events;
using Xunit;

namespace Whyfail.Tests.Architecture;

/// <summary>How whyfail ends on an error: its own errors with their exit code, anything else "internal error" and 70.</summary>
public class FailureContractTests
{
    private static (int Code, string Text) Guarded(Func<int> action)
    {
        // Report is what Guard and Main's last-resort handler print with; its writer is given here.
        var err = new StringWriter();
        int code;
        try { code = action(); }
        catch (Exception e) { code = WhyfailCli.Report(e, err); }
        return (code, err.ToString());
    }

    [Fact]
    public void AnUnexpectedExceptionIsAnInternalError()
    {
        var (code, text) = Guarded(() => throw new InvalidOperationException("the impossible happened"));
        Assert.Equal(ExitCodes.Internal, code);
        Assert.StartsWith("whyfail: internal error: InvalidOperationException: the impossible happened", text);
        Assert.Contains("  | at ", text); // where, for a bug report
    }

    [Fact]
    public void GuardCatchesEveryException()
    {
        Assert.Equal(ExitCodes.Internal, WhyfailCli.Guard(() => throw new NullReferenceException()));
        Assert.Equal(ExitCodes.KernelUnsupported, WhyfailCli.Guard(() => throw new KernelAnalysisException("no BTF")));
        Assert.Equal(ExitCodes.NoSuchProcess, WhyfailCli.Guard(() => throw new WhyfailException("no process", ExitCodes.NoSuchProcess)));
    }

    [Fact]
    public void KernelAnalysisFailuresMeanAMissingKernelFeature()
    {
        var (code, text) = Guarded(() => throw new KernelAnalysisException("kernel BTF is not readable: /sys/kernel/btf/vmlinux"));
        Assert.Equal(ExitCodes.KernelUnsupported, code);
        Assert.Equal("whyfail: kernel BTF is not readable: /sys/kernel/btf/vmlinux\n", text.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void WhyfailsExceptionsShareOneRoot()
    {
        Assert.True(typeof(WhyfailException).IsAssignableFrom(typeof(KernelAnalysisException)));
        Assert.True(typeof(WhyfailException).IsAssignableFrom(typeof(BpfProgramException)));
        var detail = Guarded(() => throw new WhyfailException("refused", ExitCodes.KernelUnsupported, "line one\nline two")).Text;
        Assert.Equal("whyfail: refused\n  | line one\n  | line two\n", detail.ReplaceLineEndings("\n"));
    }

    private sealed class BrokenRule : IExplainRule
    {
        public string Id => "test.broken";
        public bool AppliesTo(SyscallEvent ev) => throw new FormatException("bad table row");
        public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc) => [];
    }

    [Fact]
    public void ARuleWhoseAppliesToThrowsIsReportedNotSwallowed()
    {
        // A failure of this very process (alive, so its live state is read).
        var ev = new SyscallEvent { Pid = Environment.ProcessId, Tid = Environment.ProcessId, Nr = 257, Syscall = "openat", Ret = -2, KernelRet = -2 };
        new ExplainEngine([new BrokenRule()]).Explain(ev);
        var unknown = Assert.Single(ev.Explanation, e => e.Rule == "unknown");
        Assert.Contains("rule test.broken could not decide whether it applies (FormatException: bad table row)", unknown.Text);
    }
}
