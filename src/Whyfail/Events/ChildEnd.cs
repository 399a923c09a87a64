namespace Whyfail.Events;

/// <summary>
/// One step by which a failure reached the process a verdict is about (issue 14: a wait status of a child that
/// failed, as a link): the child process <paramref name="Pid"/> ended badly, and its parent
/// <paramref name="ParentPid"/> reaped it, learning that status from wait4/waitid. The status is the one
/// sched_process_exit recorded, which is what the parent's wait reported.
/// </summary>
public sealed record ChildEnd(int Pid, string Comm, int ParentPid, string ParentComm, int? ExitStatus, int Signal);
