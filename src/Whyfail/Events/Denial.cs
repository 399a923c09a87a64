namespace Whyfail.Events;

/// <summary>
/// A refusal by a `whyfail deny` rule, as its BPF LSM program reported it before the refused call returned.
/// </summary>
/// <param name="TimestampNs">When the hook refused (the clock of <see cref="SyscallEvent.TimestampNs"/>).</param>
/// <param name="Rule">The rule's number (1-based, command-line order).</param>
/// <param name="RuleText">The rule as written on the command line.</param>
/// <param name="Hook">The LSM hook that refused: inode_create, file_open, bprm_check_security, socket_bind, ….</param>
/// <param name="Matched">What matched: the new name, the absolute path, or the port.</param>
/// <param name="Subject">What <paramref name="Matched"/> is: "new name", "path", "port".</param>
/// <param name="Errno">The errno the call got.</param>
public sealed record Denial(ulong TimestampNs, int Pid, int Tid, uint Euid, string Comm, int Rule, string RuleText,
    string Hook, string Matched, string Subject, int Errno);
