namespace Whyfail.Events;

public enum ProbeHitKind { Entry = 1, Line = 2, Exit = 3 }

/// <summary>
/// One raw record of `whyfail probe` from the kernel: a probed function entered (registers and the memory
/// behind its pointer arguments), one of its source lines reached (registers, the stack from the stack
/// pointer up, and the memory reads asked for that line), or its return.
/// </summary>
/// <param name="Index">The function's index (entry, exit) or the line probe's (line).</param>
/// <param name="Regs">DWARF x86_64 register order: rax rdx rcx rbx rsi rdi rbp rsp r8..r15 rip.</param>
/// <param name="ReadOk">Entry: bit i when argument i's memory is in <paramref name="Data"/>; line: bit i when read i succeeded.</param>
public sealed record ProbeHit(ProbeHitKind Kind, int Index, int Pid, int Tid, ulong Time, string Comm, ulong Ret,
    ulong[] Regs, byte[] Data, int StackLength, uint ReadOk);

/// <summary>A named value as whyfail probe prints it (an argument, a local variable, a struct member).</summary>
public sealed record ProbeValue(string Name, string Text, IReadOnlyList<ProbeValue>? Members = null);

/// <summary>One source line a probed call executed, with the locals visible there.</summary>
public sealed record ProbeLine(string File, int Line, ulong Address, IReadOnlyList<ProbeValue> Locals);

/// <summary>One completed call of a probed function whose return met the --when condition.</summary>
public sealed class ProbeCall
{
    public required string Function { get; init; }
    public required int Pid { get; init; }
    public required int Tid { get; init; }
    public required string Comm { get; init; }
    /// <summary>The return value as the function's return type reads it (sign-extended for signed types).</summary>
    public required long Return { get; init; }
    /// <summary>"-22 (-EINVAL)", "0", "0xffff888003a5c000".</summary>
    public required string ReturnText { get; init; }
    public IReadOnlyList<ProbeValue> Args { get; init; } = [];
    public IReadOnlyList<ProbeLine> Lines { get; init; } = [];
    /// <summary>Nanoseconds from entry to return.</summary>
    public ulong DurationNs { get; init; }
}

/// <summary>The statistics `whyfail probe` prints at exit.</summary>
public sealed class ProbeStats
{
    public required IReadOnlyList<string> Functions { get; init; }
    public string? Condition { get; init; }
    public long Entries { get; set; }
    public long ExitsMatching { get; set; }
    public long ExitsNotMatching { get; set; }
    /// <summary>Line records received (statements executed inside probed calls).</summary>
    public long LinesSeen { get; set; }
    /// <summary>Source lines (of the probed functions' own files) with a kprobe attached.</summary>
    public int LinesProbed { get; set; }
    /// <summary>Source lines that could not be probed (the kernel refused the kprobe at their address).</summary>
    public int LinesNotProbed { get; set; }
    /// <summary>Records the kernel's ring buffer had no room for.</summary>
    public long Lost { get; set; }
}
