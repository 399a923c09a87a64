using System.Runtime.InteropServices;
using Whyfail.Decoding;
using Whyfail.Events;
using Whyfail.Capture.Native;

namespace Whyfail.Tracing.Inject;

/// <summary>
/// --inject for a command whyfail starts: the filter the launcher installs, the supervisor that answers its notifications,
/// and the marking of injected calls in the trace (<see cref="SyscallEvent.InjectedBy"/>). Needs no kernel tracing
/// feature: seccomp filters (any kernel whyfail runs on) for plain rules; for path=, comm=, when= and retval=, seccomp user
/// notification with SECCOMP_USER_NOTIF_FLAG_CONTINUE (Linux 5.9) and pidfd_getfd (Linux 5.6).
/// </summary>
public sealed unsafe class Injector : IDisposable
{
    private readonly InjectLedger ledger = new();
    private InjectSupervisor? supervisor;
    private long plainSeen;

    public InjectFilter Filter { get; }

    private Injector(InjectFilter filter) => Filter = filter;

    /// <summary>The injector for the rules, or null without any; throws when the kernel cannot do what they need.</summary>
    public static Injector? Create(IReadOnlyList<InjectRule> rules)
    {
        if (rules.Count == 0) return null;
        var filter = new InjectFilter(rules);
        if (filter.NeedsSupervisor && SupervisorUnsupported() is { } why)
            throw new WhyfailException($"--inject with path=, comm=, when= or retval= needs {why}; rules that fail every call of a syscall " +
                "with an errno (no condition) work without it", ExitCodes.KernelUnsupported);
        filter.Register();
        if (Analysis.Seccomp.SeccompStatus.Read(Environment.ProcessId, Environment.ProcessId) is { Mode: 0 })
            filter.RegisterInstalledFirst();
        return new Injector(filter);
    }

    /// <summary>What the kernel lacks for supervised rules, or null when it has it (also used by doctor).</summary>
    public static string? SupervisorUnsupported()
    {
        var v = Environment.OSVersion.Version;
        if (v.Major < 5 || (v.Major == 5 && v.Minor < 9))
            return $"Linux 5.9 or later (seccomp user notification with SECCOMP_USER_NOTIF_FLAG_CONTINUE, pidfd_getfd); this kernel is {v}";
        uint action = InjectFilter.RetUserNotif;
        if (Libc.Syscall(Libc.Nr("seccomp"), InjectFilter.Kernel("seccomp_ops", "SECCOMP_GET_ACTION_AVAIL"), 0, &action) != 0)
            return $"seccomp user notification (SECCOMP_RET_USER_NOTIF), which this kernel does not offer: {Capture.Native.Libc.ErrorText(Marshal.GetLastPInvokeError())}";
        return null;
    }

    /// <summary>After the launcher was released: the supervisor takes the filter's descriptor from the command's process.</summary>
    public void Start(int launcherPid, Action<string> notice)
    {
        if (!Filter.NeedsSupervisor) return;
        supervisor = new InjectSupervisor(Filter, ledger, notice);
        supervisor.Start(launcherPid);
    }

    /// <summary>Marks the event when whyfail injected its result.</summary>
    public void Mark(SyscallEvent ev)
    {
        if (ledger.Take(ev.Tid, ev.Nr, ev.KernelRet) is { } why)
        {
            ev.InjectedBy = why;
            return;
        }
        if (ev.KernelErrno > 0 && Filter.PlainRuleFor(ev.Nr, ev.KernelErrno) is { } rule)
        {
            ev.InjectedBy = $"the seccomp filter whyfail installed before running the command failed the call with {Errno.Name(ev.KernelErrno)} " +
                $"without running it (--inject={rule.Text}, rule {rule.Index}: every call)";
            Interlocked.Increment(ref plainSeen);
        }
    }

    /// <summary>Calls whyfail injected: answered by the supervisor, plus those the kernel filter failed that reached the trace.</summary>
    public long Injected => ledger.BySupervisor + Interlocked.Read(ref plainSeen);

    public void Dispose() => supervisor?.Dispose();

}
