namespace Whyfail.Events;

/// <summary>A successful write by a traced task to standard error (or standard output after a failure): its first bytes.</summary>
public sealed record MessageWrite(ulong TimestampNs, int Pid, int Tid, int Fd, string Syscall, long Ret, string Comm, byte[] Data);
