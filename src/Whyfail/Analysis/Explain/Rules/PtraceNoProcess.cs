using Whyfail.Events;
using static Whyfail.Capture.Native.Libc;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// ESRCH from ptrace requests on a tracee (not PTRACE_ATTACH/SEIZE/TRACEME): the kernel's ptrace_check_attach wants
/// the target traced by the caller and, for most requests, stopped. Which of these failed is read from the target's
/// /proc status (TracerPid, State); a target that is gone now is said to be gone, not guessed about.
/// </summary>
public sealed class PtraceNoProcess : IExplainRule
{
    public string Id => "ptrace.no_tracee";


    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.ESRCH && ev.Syscall == "ptrace" &&
        SyscallArgs.Int(ev, 0) is not (PTRACE_TRACEME or PTRACE_ATTACH or PTRACE_SEIZE);

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        int request = SyscallArgs.Int(ev, 0);
        int target = SyscallArgs.Int(ev, 1);
        string req = ev.DecodedArgs.Count > 0 ? ev.DecodedArgs[0] : $"request {request}";
        proc.Checked.Add($"the tracer and state of pid {target}");
        if (target <= 0)
        {
            yield return new Explanation(Id, $"{req} names pid {target}, which is no process", null);
            yield break;
        }
        var status = ProcFs.Read($"/proc/{target}/status");
        if (status is null || ProcessView.StartedAfter(target, ev.TimestampNs))
        {
            yield return new Explanation(Id,
                $"pid {target} does not exist now{(status is null ? "" : " as the process of the call (the pid was reused since)")}: the tracee had exited (and been reaped) at the call, or exited right after it, so a request on it has no process to act on",
                "wait for the tracee with waitpid() and stop issuing requests once it reports that it exited");
            yield break;
        }
        var f = status.Split('\n').Select(l => l.Split(':', 2)).Where(p => p.Length == 2).GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.First()[1].Trim());
        string who = ProcFs.Who(target);
        var tracer = f.GetValueOrDefault("TracerPid") ?? "0";
        string caller = proc.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string tid = ev.Tid.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (tracer == "0")
        {
            yield return new Explanation(Id,
                $"{who} is not being traced by anyone (TracerPid 0): {req} works only on a tracee of the caller, attached first with PTRACE_ATTACH or PTRACE_SEIZE (or one that called PTRACE_TRACEME)",
                $"attach first: ptrace(PTRACE_SEIZE, {target}, …) or ptrace(PTRACE_ATTACH, {target}, …), then wait for it to stop");
            yield break;
        }
        if (tracer != caller && tracer != tid)
        {
            yield return new Explanation(Id,
                $"{who} is traced by {ProcFs.Who(int.Parse(tracer, System.Globalization.CultureInfo.InvariantCulture))}, not by the caller (pid {proc.Pid}): only its own tracer may make {req}",
                null);
            yield break;
        }
        var state = f.GetValueOrDefault("State") ?? "";
        if (request is PTRACE_KILL or PTRACE_INTERRUPT) yield break; // these do not need a stopped tracee
        if (!state.StartsWith('t'))
            yield return new Explanation(Id,
                $"{who} is traced by the caller but not stopped (state {state}): {req} needs the tracee in a ptrace stop, reported by waitpid(), and it was running",
                "stop it first (PTRACE_INTERRUPT for a seized tracee, or a signal) and wait for the stop with waitpid() before the request");
        else
            yield return new Explanation(Id,
                $"{who} is traced by the caller and in a ptrace stop now (state {state}), so it was probably not stopped yet at the call: {req} needs the tracee stopped, and the stop must be collected with waitpid() first",
                "wait for the stop with waitpid() before the request", false);
    }
}
