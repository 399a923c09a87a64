namespace Whyfail.Events;

/// <summary>
/// The seccomp filters a thread held at a failure, as the kernel side copied their classic BPF programs (WF_REC_SECCOMP,
/// bpf/whyfail.h): what the filters returned for the call can be worked out after the process has exited, and without
/// stopping it while it lives.
/// </summary>
/// <param name="Programs">Each filter's program as struct sock_filter bytes (8 per instruction), oldest filter first;
/// null for a filter whose program the kernel did not keep or that could not be read.</param>
/// <param name="Newest">The newest filter's kernel address: the chain's identity while the thread holds it.</param>
public sealed record SeccompSnapshot(IReadOnlyList<byte[]?> Programs, ulong Newest)
{
    /// <summary>A number no other chain of the run has (an address can name another filter later).</summary>
    public long Serial { get; init; }

    /// <summary>Every filter's program is known.</summary>
    public bool Complete => Programs.All(p => p != null);
}
