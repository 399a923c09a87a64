using Whyfail.Events;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// ENXIO opening /dev/tty: the caller has no controlling terminal (tty_open_current_tty has nothing to give),
/// the only cause of this error for that path. Common and harmless for programs run by a service manager,
/// cron, a pipeline under setsid, or ssh without -t: they open /dev/tty to prompt, and fall back.
/// </summary>
public sealed class NoControllingTerminal : IExplainRule
{
    public string Id => "tty.none";

    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.ENXIO && SyscallArgs.Paths(ev) is [{ Path: "/dev/tty" }, ..];

    public bool FromEvidence => true; // the errno alone says it: no live state needed

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        string session = "";
        if (proc.Alive && ProcFs.StatFields(proc.Pid) is { Length: > 4 } f && f[4] == "0") // tty_nr
            session = $" (its session, led by {ProcFs.Who(int.Parse(f[3], System.Globalization.CultureInfo.InvariantCulture))}, has none)";
        yield return new Explanation(Id,
            $"pid {ev.Pid} has no controlling terminal{session}, and \"/dev/tty\" always means the caller's controlling terminal, so opening it fails with ENXIO; " +
            "this is usual for programs started by a service manager, cron, a pipeline in a new session (setsid) or ssh without -t, and programs that open /dev/tty to prompt usually fall back",
            "if it needs to prompt, run it from a terminal (or ssh -t, or script -qc CMD /dev/null to give it a pseudo-terminal)");
    }
}
