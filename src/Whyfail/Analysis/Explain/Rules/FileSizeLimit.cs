using Whyfail.Events;
using static Whyfail.Analysis.Explain.Words;
using static Whyfail.Capture.Native.Libc;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// EFBIG from writing or extending a file past the process's RLIMIT_FSIZE soft limit ("Max file size"): the limit,
/// the descriptor's file and offset. The process got the error instead of being killed by SIGXFSZ because it
/// ignores, blocks or handles SIGXFSZ.
/// </summary>
public sealed class FileSizeLimit : IExplainRule
{
    public string Id => "file.size_limit";

    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.EFBIG &&
        ev.Syscall is "write" or "pwrite64" or "writev" or "pwritev" or "pwritev2" or "ftruncate" or "truncate" or "fallocate" or "copy_file_range" or "sendfile" or "splice";

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        var limit = proc.Limit("Max file size");
        proc.Checked.Add($"RLIMIT_FSIZE ({(limit is null ? "unreadable" : ResourceLimit.Show(limit.Soft))})");
        if (limit?.Soft is not { } soft) yield break;
        string where = "";
        if (ev.Syscall is not "truncate" && proc.Fd(SyscallArgs.Int(ev, ev.Syscall is "splice" or "copy_file_range" ? 2 : 0)) is { } info)
            where = $" for {Q(proc.FdTarget(info))} (descriptor {info.Fd}{(ev.Syscall is "write" or "writev" ? $", at offset {info.Pos}" : "")})";
        var sig = SignalDisposition.Of(proc, SIGXFSZ);
        yield return new Explanation(Id,
            $"pid {proc.Pid}'s RLIMIT_FSIZE soft limit is {soft} bytes (hard limit {ResourceLimit.Show(limit.Hard)}), and {ev.Syscall} would make the file larger{where}" +
            (sig is null ? "" : $"; pid {proc.Pid} {sig} SIGXFSZ, so it got EFBIG instead of being killed"),
            "raise it (ulimit -f unlimited, LimitFSIZE= in a systemd unit), or write less");
    }
}
