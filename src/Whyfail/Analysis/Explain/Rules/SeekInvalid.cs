using Whyfail.Events;
using static Whyfail.Analysis.Explain.Words;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// EINVAL from lseek: a whence the kernel does not know, or a resulting position before the start of the file
/// (the offset added to 0, to the descriptor's position at the call, or to the file's size).
/// </summary>
public sealed class SeekInvalid : IExplainRule
{
    public string Id => "fd.seek_invalid";

    private static readonly string[] Whence = ["SEEK_SET", "SEEK_CUR", "SEEK_END", "SEEK_DATA", "SEEK_HOLE"];

    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.EINVAL && ev.Syscall == "lseek";

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        int fd = SyscallArgs.Int(ev, 0), whence = SyscallArgs.Int(ev, 2);
        long offset = unchecked((long)ev.Args[1]);
        if (whence < 0 || whence >= Whence.Length)
        {
            yield return new Explanation(Id,
                $"whence {whence} is not one of SEEK_SET (0), SEEK_CUR (1), SEEK_END (2), SEEK_DATA (3), SEEK_HOLE (4)",
                "pass one of those as lseek's third argument", FromErrno: true);
            yield break;
        }
        if (whence > 2 || proc.Fd(fd) is not { } info) yield break;
        var name = info.Target.StartsWith('/') ? $"descriptor {fd} ({Q(proc.FdTarget(info))})" : $"descriptor {fd}";
        long? from = whence switch
        {
            0 => 0,
            1 => info.Pos,
            _ => proc.StatFd(fd, out var st) && st.Kind == FileKind.Regular ? (long)st.Size : null,
        };
        proc.Checked.Add($"the position lseek asked for on {name}");
        if (from is not { } b || b + offset >= 0) yield break;
        var basis = whence switch
        {
            0 => "the start of the file",
            1 => $"its position at the call, {N((ulong)b)}",
            _ => $"its size, {N((ulong)b)} bytes",
        };
        yield return new Explanation(Id,
            $"{Whence[whence]} with offset {offset} on {name} asks for position {b + offset} ({basis} plus {offset}): a file position cannot be negative",
            "check how the offset is computed (a negative or underflowed value?)");
    }
}
