using System.Globalization;
using Whyfail.Analysis.Seccomp;
using Whyfail.Events;
using static Whyfail.Errnos;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// Any error from a thread under seccomp filters (Seccomp: 2): runs the thread's filter programs on the call's struct
/// seccomp_data (nr, AUDIT_ARCH_X86_64, instruction pointer taken as 0, the raw arguments) and combines them as the kernel
/// does. The programs are the ones the kernel side copied at the failure (<see cref="FailureContext.Seccomp"/>: exact,
/// also after the process has exited); without that copy, those read from the live thread (briefly stopping it with
/// ptrace, once per thread; see <see cref="SeccompFilters"/>). When the result is SECCOMP_RET_ERRNO with the errno the
/// call got, the filter refused the call before it ran. TRACE and USER_NOTIF hand the call to a tracer or supervisor
/// (ENOSYS when there is none); ALLOW, LOG, TRAP and KILL verdicts rule the filter out and are only noted as checked.
/// </summary>
public sealed class SeccompBlocked : IExplainRule
{
    public string Id => "seccomp.blocked";


    // Besides the errno, a look at the thread's status line: without filters the rule is not about this call at
    // all (and does not count as a rule that ran in the "unknown" explanation).
    // The failure's context says it as of the call (and for a process that has exited).
    public bool AppliesTo(SyscallEvent ev) => ev.Errno is > 0 and <= SeccompRet.MaxErrno && ev.Pid > 0 &&
        (ev.Context is { } c ? c.SeccompMode == 2
            : (SeccompStatus.Read(ev.Pid, ev.Tid > 0 ? ev.Tid : ev.Pid) ?? SeccompStatus.Read(ev.Pid, ev.Pid))?.Mode == 2);

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        if (AtTheFailure(ev) is { } copied)
            return Judge(ev, proc, copied, Source.AtTheFailure(ev, proc));
        if (proc.Alive)
            return FromFilters(ev, proc);
        proc.NoteLost(ev.Context?.Seccomp != null
            ? "its seccomp filters (the kernel kept no copy of some of their programs)"
            : "its seccomp filters");
        return [];
    }

    /// <summary>The filters as the kernel side copied them at the failure, without whyfail's own; null when not known.</summary>
    private static List<ClassicBpf>? AtTheFailure(SyscallEvent ev)
    {
        if (ev.Context?.Seccomp is not { Complete: true } snap) return null;
        try
        {
            return Parsed.GetValue(snap, s => new ParsedChain(s.Programs.Select(p => ClassicBpf.Parse(p!)).ToList())).Filters
                .Where(f => !Tracing.Inject.InjectFilter.IsOwn(f)).ToList();
        }
        catch (BpfProgramException)
        {
            return null; // not a program the kernel would have taken: not what the copy should hold
        }
    }

    private sealed record ParsedChain(List<ClassicBpf> Filters);

    // A chain's programs parsed once (its failures share one snapshot object while the thread's filters stay the same).
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<SeccompSnapshot, ParsedChain> Parsed = new();

    /// <summary>Whose filters they are, and what else is known of the thread, for the explanation's words.</summary>
    private sealed record Source(string Subject, string Whose, string Count, bool ViaLeader, bool AtFailure, int? TracerPid, int Pid, int Tid)
    {
        public static Source AtTheFailure(SyscallEvent ev, ProcessView proc)
        {
            int pid = proc.Pid, tid = proc.Tid;
            var who = proc.Alive ? ProcFs.Who(pid) : $"pid {pid} ({ev.Comm})";
            int n = ev.Context!.SeccompFilters;
            int? tracer = proc.Alive ? SeccompStatus.Read(pid, tid)?.TracerPid : null;
            return new Source(tid == pid ? "the process's seccomp filter" : $"thread {tid}'s seccomp filter",
                tid == pid ? $"{who}'s" : $"thread {tid} of {who}'s", Words.Plural(n, "seccomp filter", "seccomp filters"),
                false, true, tracer, pid, tid);
        }
    }

    private IEnumerable<Explanation> FromFilters(SyscallEvent ev, ProcessView proc)
    {
        int pid = proc.Pid, tid = proc.Tid;
        var st = SeccompStatus.Read(pid, tid);
        bool viaLeader = false;
        if (st is null && tid != pid)
        {
            // The failing thread is gone; the main thread's filters are usually the same ones (inherited or synced).
            st = SeccompStatus.Read(pid, pid);
            tid = pid;
            viaLeader = true;
        }
        if (st is not { Mode: 2 }) yield break;
        if (st.FilterCount is { } own && own <= Tracing.Inject.InjectFilter.OwnInstalledFirst)
            yield break; // only whyfail's own --inject filter: nothing to read (and no ptrace stop of the command)

        var whose = tid == pid ? $"{ProcFs.Who(pid)}'s" : $"thread {tid} of {ProcFs.Who(pid)}'s";
        var count = st.FilterCount is { } c ? Words.Plural(c, "seccomp filter", "seccomp filters") : "seccomp filters";
        var fetch = SeccompFilters.Get(pid, tid);
        if (fetch.Filters is not { } filters)
        {
            proc.Checked.Add($"{whose} {count}, which could have refused the call but could not be read: {fetch.Error}");
            yield break;
        }

        // whyfail's own --inject filter: the calls it failed are inject.injected's; for the others it did not refuse them.
        filters = filters.Where(f => !Tracing.Inject.InjectFilter.IsOwn(f)).ToList();
        var subject = tid == pid ? "the process's seccomp filter" : $"thread {tid}'s seccomp filter";
        foreach (var e in Judge(ev, proc, filters, new Source(subject, whose, count, viaLeader, false, st.TracerPid, pid, tid)))
            yield return e;
    }

    private IEnumerable<Explanation> Judge(SyscallEvent ev, ProcessView proc, IReadOnlyList<ClassicBpf> filters, Source src)
    {
        if (filters.Count == 0) yield break;
        var sc = ev.Syscall.Length > 0 ? ev.Syscall : $"syscall {ev.Nr}";
        var data = new SeccompData(ev.Nr, SeccompData.AuditArchX86_64, 0, ev.Args);
        var v = SeccompVerdict.Evaluate(filters, data);
        string Which(SeccompVerdict x) => $"filter {x.DecidingFilter + 1} of {x.FilterCount} returns {x.Describe()} for {sc}";
        var subject = src.Subject;
        var whose = src.Whose;
        var count = src.Count;
        // Copied at the failure, the filters are the ones the call met; read now, newer ones may have come since.
        var at = src.AtFailure ? "; the filters as they were at the failure" : "";
        var whoseAt = src.AtFailure ? $"{whose} {count} as they were at the failure" : $"{whose} {count}";
        var notes = Notes(v, ev, src.ViaLeader, src.Pid, src.Tid);
        var fix = Fix(src.Pid, sc);
        int errno = ev.Errno;

        switch (v.Action)
        {
            case SeccompAction.Errno when v.Errno == errno:
                yield return new Explanation(Id,
                    $"blocked by {subject} ({Which(v)}{at}): the kernel ran the filters before the call and failed it with {Errnos.Name(errno)} without running it{notes}",
                    fix, !src.ViaLeader);
                yield break;

            case SeccompAction.Errno when !src.AtFailure:
                // The filters as they are now give another errno. Filters are only ever added (newest last), so the
                // call may have met an older prefix of them: find the one that gives the errno seen.
                for (int m = filters.Count - 1; m >= 1; m--)
                {
                    var older = SeccompVerdict.Evaluate(filters.Take(m).ToList(), data);
                    if (older.Errno == errno)
                    {
                        yield return new Explanation(Id,
                            $"probably blocked by {subject}: with the first {m} of its {filters.Count} filters, {Which(older)} ({Errnos.Name(errno)}, the error the call got); " +
                            $"with all {filters.Count} the call now gets {v.Describe()} from filter {v.DecidingFilter + 1}, so the newer ones were probably installed after the call{notes}",
                            fix, false);
                        yield break;
                    }
                }
                proc.Checked.Add($"{whose} {count}: {Which(v)} with these arguments, which is not the {Errnos.Name(errno)} the call got{notes}");
                yield break;

            case SeccompAction.Errno:
                proc.Checked.Add($"{whoseAt}: {Which(v)} with these arguments, which is not the {Errnos.Name(errno)} the call got{notes}");
                yield break;

            case SeccompAction.Trace:
                if (src.TracerPid is 0 && errno == ENOSYS)
                    yield return new Explanation(Id,
                        $"blocked by {subject} ({Which(v)}{at}): the filter hands the call to a ptrace tracer, and with no tracer watching for seccomp events the kernel fails it with ENOSYS{notes}",
                        fix, !src.ViaLeader);
                else
                    yield return new Explanation(Id,
                        $"probably failed by a ptrace tracer: {subject} ({Which(v)}{at}) hands the call to the tracer, which can fail it with any error" +
                        (src.TracerPid is int t and > 0 ? $"; the tracer is {ProcFs.Who(t)}" : src.TracerPid is 0 ? "; none is attached now" : "") + notes,
                        src.TracerPid is int t2 and > 0 ? $"see why the tracer ({ProcFs.Who(t2)}) refuses {sc}, or change the filter" : fix, false);
                yield break;

            case SeccompAction.UserNotif:
                yield return new Explanation(Id, errno == ENOSYS
                    ? $"probably blocked by {subject} ({Which(v)}{at}): the call is handed to a supervisor listening on the filter's notification descriptor, and fails with ENOSYS when none listens (or the supervisor answered ENOSYS){notes}"
                    : $"probably refused by a seccomp supervisor: {subject} ({Which(v)}{at}) hands the call to the process listening on the filter's notification descriptor (usually a container runtime or sandbox manager), which answered {Errnos.Name(errno)}{notes}",
                    errno == ENOSYS ? fix : "the supervisor that installed the filter (the container runtime or sandbox) decides this call; see its configuration or logs", false);
                yield break;

            case SeccompAction.Allow:
                proc.Checked.Add($"{whoseAt} (they allow {sc} with these arguments{notes})");
                yield break;

            default:
                // LOG allows the call; KILL and TRAP would not have let it return this error.
                proc.Checked.Add($"{whoseAt}: {Which(v)}, which {(v.Action == SeccompAction.Log ? "allows it (after logging)" : "does not make a call fail with an error")}{notes}");
                yield break;
        }
    }

    // What the deciding filter looked at, and what whyfail had to assume.
    private static string Notes(SeccompVerdict v, SyscallEvent ev, bool viaLeader, int pid, int tid)
    {
        var parts = new List<string>();
        if (v.DecidingFilter >= 0)
        {
            var fields = v.DecidingFields.Select(f => f.StartsWith("args[", StringComparison.Ordinal)
                ? $"{f} = 0x{Arg(ev, f[5] - '0').ToString("x", CultureInfo.InvariantCulture)}" : f).ToList();
            if (fields.Count > 0) parts.Add($"that filter looks at {Join(fields)}");
        }
        if (v.ReadInstructionPointer)
            parts.Add("a filter reads the call's instruction pointer, which whyfail does not know; it ran them with 0");
        if (viaLeader)
            parts.Add($"the failing thread has exited, so these are the main thread's filters (pid {pid}), which it usually shares");
        return parts.Count == 0 ? "" : "; " + string.Join("; ", parts);
    }

    private static ulong Arg(SyscallEvent ev, int i) => i < ev.Args.Length ? ev.Args[i] : 0;

    private static string Join(List<string> items) =>
        items.Count <= 1 ? string.Concat(items) : string.Join(", ", items.Take(items.Count - 1)) + " and " + items[^1];

    private static string Fix(int pid, string sc)
    {
        var unit = SystemdUnit(pid);
        return $"the filter installed by the program (or by its container runtime's seccomp profile, or systemd's SystemCallFilter={(unit != null ? $" of {unit}" : "")}) forbids {sc}; allow it there";
    }

    // The systemd service the process runs in, from its cgroup path ("0::/system.slice/nginx.service").
    private static string? SystemdUnit(int pid)
    {
        var text = ProcFs.Read($"/proc/{pid}/cgroup");
        if (text is null) return null;
        foreach (var line in text.Split('\n'))
        {
            var path = line.Split(':', 3) is { Length: 3 } f ? f[2] : "";
            foreach (var seg in path.Split('/').Reverse())
                if (seg.EndsWith(".service", StringComparison.Ordinal)) return seg;
        }
        return null;
    }
}
