using Whyfail.Events;
using static Whyfail.Analysis.Explain.Words;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>ENFILE: the system-wide open-file limit (fs.file-max) against the file handles allocated.</summary>
public sealed class SystemFileTable : IExplainRule
{
    public string Id => "fd.system_limit";

    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.ENFILE;

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        var nr = ProcFs.Read("/proc/sys/fs/file-nr")?.Split(['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
        if (nr is not { Length: 3 } || !ulong.TryParse(nr[0], out var allocated) || !ulong.TryParse(nr[2], out var max)) yield break;
        proc.Checked.Add($"fs.file-nr ({allocated} of {max} file handles allocated)");
        bool full = allocated + 64 >= max;
        yield return new Explanation(Id,
            full
                ? $"the whole system is out of file handles: {N(allocated)} are allocated and fs.file-max is {N(max)}"
                : $"the system-wide file table (fs.file-max {N(max)}) has {N(allocated)} handles allocated now; it was probably full at the time of the call",
            "find the process holding most descriptors (ls /proc/*/fd | …), or raise fs.file-max (sysctl -w fs.file-max=…)", full);
    }
}
