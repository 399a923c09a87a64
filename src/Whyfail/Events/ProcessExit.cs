namespace Whyfail.Events;

/// <summary>
/// The end of a traced thread group (its last thread's exit), from sched_process_exit.
/// <paramref name="Status"/> is what wait(2) reports: exit status &lt;&lt; 8, or the signal number (| 0x80 with a core dump).
/// </summary>
public sealed record ProcessExit(ulong TimestampNs, int Pid, int Tid, int ParentPid, int Status, string Comm)
{
    /// <summary>The fatal signal, or 0 when the process exited.</summary>
    public int Signal => Status & 0x7f;
    /// <summary>The exit status (0..255) when it exited, else null.</summary>
    public int? ExitStatus => Signal == 0 ? (Status >> 8) & 0xff : null;
    public bool CoreDumped => (Status & 0x80) != 0;
    /// <summary>Ended with a non-zero status or a signal.</summary>
    public bool Failed => Status != 0;
}
