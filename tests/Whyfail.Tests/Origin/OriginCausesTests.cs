using System.Text;
using System.Text.Json;
using Whyfail.Analysis.Evidence;
using Whyfail.Analysis.Origin.Resolve;
using Whyfail.Events;
using Whyfail.Rendering;
using Xunit;

namespace Whyfail.Tests.Origin;

/// <summary>
/// Origins that are not functions (issue 18.3): a seccomp refusal (a filter's program returns the errno), a signal that
/// turned ERESTARTSYS into EINTR, a security module's denial. Text and JSON as whyfail prints them.
/// </summary>
public class OriginCausesTests
{
    private static SyscallEvent Mkdir(FailureContext? ctx) => new()
    {
        Nr = 83, Syscall = "mkdir", Ret = -1, KernelRet = -1, Pid = 4242, Tid = 4242, Context = ctx,
    };

    private static (string Text, JsonElement Json) Render(SyscallEvent ev)
    {
        var text = new StringWriter();
        var tr = new TextRenderer(text, color: false, showComm: false);
        tr.Event(ev);
        tr.Flush();
        var ms = new MemoryStream();
        var jr = new JsonRenderer(ms);
        jr.Event(ev);
        jr.Flush();
        return (text.ToString(), JsonDocument.Parse(Encoding.UTF8.GetString(ms.ToArray())).RootElement.GetProperty("origin").Clone());
    }

    // One filter, "ret ERRNO(1)" (BPF_RET|BPF_K, k = SECCOMP_RET_ERRNO | 1), as the kernel side copies it.
    private static FailureContext UnderOneFilter() => new()
    {
        SeccompMode = 2, SeccompFilters = 1,
        Seccomp = new SeccompSnapshot([[0x06, 0, 0, 0, 0x01, 0, 0x05, 0]], 0xffff888012345678),
    };

    [Fact]
    public void ACallTheFiltersCopiedAtTheFailureRefuseWasRefusedByAFilter()
    {
        var ev = Mkdir(UnderOneFilter());
        ev.Explanation.Add(new Explanation("seccomp.blocked", "blocked by the process's seccomp filter (filter 1 of 1 returns ERRNO(1) for mkdir)", null, true));
        OriginCauses.Apply(ev);
        var (text, o) = Render(ev);
        Assert.Equal("seccomp", o.GetProperty("kind").GetString());
        Assert.Equal("seccomp_filters", o.GetProperty("found_by").GetString());
        Assert.Equal("high", o.GetProperty("confidence").GetString());
        Assert.Equal("", o.GetProperty("function").GetString());
        Assert.False(o.GetProperty("deeper").GetBoolean());
        Assert.Contains("origin: a seccomp filter refused the call before it ran (the thread's filters as they were at the failure, run on the call, return SECCOMP_RET_ERRNO with EPERM)", text);
    }

    [Fact]
    public void ACallUnderSeccompThatNoFilterRefusedHasNoSeccompOrigin()
    {
        var ev = Mkdir(UnderOneFilter());
        OriginCauses.Apply(ev);
        Assert.Null(ev.Origin);
    }

    [Fact]
    public void ASignalThatTurnedErestartsysIntoEintrIsTheOriginAndThePathStays()
    {
        var ev = new SyscallEvent { Nr = 0, Syscall = "read", Ret = -4, KernelRet = -512, Pid = 7, Tid = 7 };
        ev.Evidence.Add(new SignalEvidence(10, 99, 0, 0));
        ev.Explanation.Add(new Explanation("signal.interrupted", "SIGUSR1 from pid 99 interrupted the call"));
        ev.Origin = new Events.Origin { Function = "pipe_read", Chain = ["pipe_read", "vfs_read"], ChainWatched = [true, true], Backend = "fexit", Confidence = "high", FoundBy = "return_values" };
        OriginCauses.Apply(ev);
        var (text, o) = Render(ev);
        Assert.Equal("signal", o.GetProperty("kind").GetString());
        Assert.Equal("SIGUSR1", o.GetProperty("signal").GetString());
        Assert.Equal("pipe_read", o.GetProperty("function").GetString());
        Assert.Contains("SIGUSR1 from pid 99 interrupted the call: the kernel's ERESTARTSYS (from pipe_read) became EINTR when its handler ran; path: pipe_read ← vfs_read", text);
    }

    [Fact]
    public void AnLsmHookOnTheChainNamesTheModuleAndTheHook()
    {
        var ev = new SyscallEvent { Nr = 257, Syscall = "openat", Ret = -13, KernelRet = -13, Pid = 7, Tid = 7 };
        ev.Origin = new Events.Origin
        {
            Function = "aa_path_perm", Chain = ["aa_path_perm", "apparmor_file_open", "security_file_open", "do_dentry_open"],
            ChainWatched = [true, true, true, true], Backend = "kretprobe.multi", Confidence = "high", FoundBy = "return_values",
        };
        OriginCauses.Apply(ev);
        var (_, o) = Render(ev);
        Assert.Equal("lsm", o.GetProperty("kind").GetString());
        Assert.Equal("apparmor", o.GetProperty("module").GetString());
        Assert.Equal("apparmor_file_open", o.GetProperty("hook").GetString());
        Assert.Equal("lsm_hook", o.GetProperty("found_by").GetString());
    }

    [Fact]
    public void AnAuditDenialAloneIsAnLsmOrigin()
    {
        var ev = new SyscallEvent { Nr = 257, Syscall = "openat", Ret = -13, KernelRet = -13, Pid = 189, Tid = 189 };
        ev.Evidence.Add(new LsmEvidence(AuditRecord.Parse(1400, "audit(1795526267.140:4): apparmor=\"DENIED\" operation=\"open\" class=\"file\" profile=\"wfdeny\" name=\"/tmp/x\" pid=189 comm=\"python3\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0")!));
        OriginCauses.Apply(ev);
        var (text, o) = Render(ev);
        Assert.Equal("lsm", o.GetProperty("kind").GetString());
        Assert.Equal("apparmor", o.GetProperty("module").GetString());
        Assert.Equal("open", o.GetProperty("hook").GetString());
        Assert.Equal("audit", o.GetProperty("found_by").GetString());
        Assert.Contains("origin: the apparmor security module denied the call (hook \"open\")  [audit, high confidence]", text);
    }

    [Fact]
    public void ACapabilityCheckIsNotAnLsmOrigin()
    {
        var ev = new SyscallEvent { Nr = 62, Syscall = "kill", Ret = -1, KernelRet = -1, Pid = 7, Tid = 7 };
        ev.Origin = new Events.Origin { Function = "cap_capable", Chain = ["cap_capable", "security_capable"], Backend = "fexit", Confidence = "high" };
        OriginCauses.Apply(ev);
        Assert.Equal("function", ev.Origin.Kind);
    }

    [Fact]
    public void AnOriginThatMayBeDeeperSaysSoInTextAndJson()
    {
        var ev = new SyscallEvent { Nr = 1, Syscall = "write", Ret = -28, KernelRet = -28, Pid = 7, Tid = 7 };
        ev.Origin = new Events.Origin
        {
            Function = "vfs_write", Chain = ["vfs_write", "ksys_write"], ChainWatched = [true, true], Backend = "kretprobe.multi", Confidence = "medium",
            Deeper = true, DeeperWhy = "vfs_write has no instruction making -ENOSPC and makes 2 indirect calls (function pointers), which may have returned it",
            FoundBy = "return_values",
        };
        var (text, o) = Render(ev);
        Assert.True(o.GetProperty("deeper").GetBoolean());
        Assert.StartsWith("vfs_write has no instruction", o.GetProperty("deeper_why").GetString());
        Assert.Equal("function", o.GetProperty("kind").GetString());
        Assert.Contains("origin: vfs_write ← ksys_write  [kretprobe.multi, medium confidence, may be deeper]", text);
        Assert.Contains("may be deeper: vfs_write has no instruction making -ENOSPC", text);
    }
}
