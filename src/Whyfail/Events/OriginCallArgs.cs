namespace Whyfail.Events;

/// <summary>
/// --args: the arguments of a kernel function whose error return was recorded (an origin record), raw: the six
/// register values at entry and the bytes read behind pointers at its return. Analysis types them from BTF.
/// </summary>
/// <param name="Values">The argument registers in order (rdi rsi rdx rcx r8 r9).</param>
/// <param name="KernelRead">Bit i: <paramref name="Data"/>'s slot i holds kernel memory behind argument i.</param>
/// <param name="UserString">Bit i: slot i holds a string read from user memory behind argument i.</param>
/// <param name="Data">Slot i at i * <paramref name="Stride"/>.</param>
/// <param name="EntrySeen">False when a kretprobe backend did not see the call's entry (no values).</param>
public sealed record OriginCallArgs(ulong[] Values, uint KernelRead, uint UserString, byte[] Data, int Stride, bool EntrySeen);
