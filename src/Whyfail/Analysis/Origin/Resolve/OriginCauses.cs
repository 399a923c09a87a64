using Whyfail.Analysis.Evidence;
using Whyfail.Analysis.Origin.Kernel;
using Whyfail.Events;

namespace Whyfail.Analysis.Origin.Resolve;

/// <summary>
/// Origins that are not a kernel function's return value, from what the failure's context, evidence and
/// explanation already established: a seccomp filter that refused the call before the syscall body ran (its
/// program, run on the call, returns the errno), a signal that turned an ERESTART* code into EINTR, a security module's denial
/// (its hook and the module). A function origin found for the same call stays, as the path the error took.
/// </summary>
public static class OriginCauses
{
    public static void Apply(SyscallEvent ev)
    {
        if (!ev.Failed || ev.Injected) return;
        if (Seccomp(ev) is { } s) ev.Origin = s;
        else if (Signal(ev) is { } g) ev.Origin = g;
        else if (Lsm(ev) is { } l) ev.Origin = l;
    }

    private static Events.Origin? Seccomp(SyscallEvent ev)
    {
        // The rule's evaluation of the thread's filters (a certain verdict) says it: run on the programs copied at the
        // failure (exact), or on those read from the live thread since (the same unless it added filters after the call).
        if (!ev.Explanation.Any(x => x.Rule == "seccomp.blocked" && x.Certain)) return null;
        bool atFailure = ev.Context?.Seccomp is { Complete: true };
        return new Events.Origin
        {
            Kind = "seccomp",
            Cause = $"a seccomp filter refused the call before it ran (the thread's filters{(atFailure ? " as they were at the failure" : "")}, run on the call, return SECCOMP_RET_ERRNO with {Decoding.Errno.Name(ev.Errno) ?? ev.Errno.ToString()})",
            FoundBy = "seccomp_filters",
            Confidence = atFailure ? "high" : "medium",
            Backend = "seccomp filters",
        };
    }

    private static Events.Origin? Signal(SyscallEvent ev)
    {
        if (!ev.Explanation.Any(x => x.Rule == "signal.interrupted")) return null;
        var sig = ev.Evidence.OfType<SignalEvidence>().LastOrDefault(s => s.Interrupts);
        if (sig == null) return null;
        var o = ev.Origin ?? new Events.Origin { Backend = "signal evidence", Confidence = "high" };
        o.Kind = "signal";
        o.Signal = sig.SignalName;
        o.FoundBy = "signal";
        o.Cause = $"{sig.Who} interrupted the call: the kernel's {Decoding.Errno.Name(ev.KernelErrno) ?? ev.KernelErrno.ToString()}" +
            (ev.Origin is { Function.Length: > 0 } f ? $" (from {f.Function})" : "") + " became EINTR when its handler ran";
        return o;
    }

    private static Events.Origin? Lsm(SyscallEvent ev)
    {
        var denial = ev.Evidence.OfType<LsmEvidence>().FirstOrDefault();
        // The innermost chain link that is a security module's hook implementation (apparmor_file_open…).
        string? hook = null, module = null;
        if (ev.Origin is { Kind: "function" } fo)
            foreach (var fn in fo.Chain)
                if (ModuleOf(fn) is { } m && (denial == null || m == denial.Lsm)) { hook = fn; module = m; break; }
        if (denial == null && hook == null) return null;
        module = denial?.Lsm ?? module;
        var o = ev.Origin ?? new Events.Origin { Backend = "audit", Confidence = "high" };
        o.Kind = "lsm";
        o.Module = module;
        o.Hook = hook ?? denial?.Operation;
        o.FoundBy = hook != null ? "lsm_hook" : "audit";
        o.Cause = $"the {module} security module denied the call" + (o.Hook is { } h ? $" (hook {Decoding.StringEscaper.Quote(h)})" : "");
        return o;
    }

    /// <summary>The module whose hook implementation <paramref name="function"/> is, by name prefix (the capability module's cap_* checks left out: they are capability decisions).</summary>
    public static string? ModuleOf(string function)
    {
        foreach (var (lsm, prefix) in IndirectCallFamilies.LsmPrefixes)
            if (lsm != "capability" && lsm != "bpf" && function.StartsWith(prefix, StringComparison.Ordinal))
                return lsm;
        return null;
    }
}
