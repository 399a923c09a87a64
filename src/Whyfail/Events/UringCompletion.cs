namespace Whyfail.Events;

/// <summary>
/// An io_uring request that completed with an error (issue 14: an error delivered as data): its opcode
/// (IORING_OP_*) and the submitter's user_data. The event's Ret is the completion's res; its pid, tid and comm
/// are the submitter's.
/// </summary>
public sealed record UringCompletion(int Opcode, ulong UserData);
