using Whyfail.Decoding;
using Whyfail.Events;
using static Whyfail.Analysis.Explain.Words;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// ENOTTY from ioctl: the descriptor's driver does not know the request. Most often a terminal request
/// (type 'T': TCGETS from isatty(), TIOCGWINSZ for the window size) on a pipe, a file or /dev/null: the
/// program asked "is this a terminal?" and the answer is no, which is harmless (it then leaves out colours,
/// paging or line editing). Any other request: the descriptor is not the kind of device it is meant for.
/// </summary>
public sealed class IoctlNotSupported : IExplainRule
{
    public string Id => "ioctl.not_supported";

    private const uint TerminalType = 0x54; // 'T': the tty ioctls (asm-generic/ioctls.h)

    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.ENOTTY && ev.Syscall == "ioctl";

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        int fd = SyscallArgs.Int(ev, 0);
        uint request = (uint)ev.Args[1];
        string name = IoctlFamily.Request(request);
        var info = proc.Fd(fd);
        proc.Checked.Add($"what descriptor {fd} is");
        string what = info == null ? $"descriptor {fd}" : $"descriptor {fd} ({Describe(proc, info)})";
        bool terminalRequest = ((request >> 8) & 0xff) == TerminalType;
        bool isTerminal = info != null && IsTerminal(info.Target);
        if (terminalRequest && !isTerminal)
        {
            yield return new Explanation(Id,
                $"{what} is {(info == null ? "probably " : "")}not a terminal, and {name} is a terminal request: the program asked whether it writes to or reads from a terminal " +
                "(isatty() and window-size queries do this) and the answer is no; programs then leave out colours, paging or line editing, so this is usually harmless",
                null, Certain: info != null);
            yield break;
        }
        yield return new Explanation(Id,
            $"{what} does not support the ioctl request {name}: its driver or file system does not know this request" +
            (isTerminal ? " (a terminal, but not one of the kind the request is for, such as a pseudo-terminal master)" : ", which is meant for another kind of device or file"),
            "check that the descriptor is the device or file the request is meant for",
            Certain: info != null);
    }

    private static bool IsTerminal(string target) =>
        target.StartsWith("/dev/pts/", StringComparison.Ordinal) || target.StartsWith("/dev/tty", StringComparison.Ordinal)
        || target is "/dev/console" or "/dev/ptmx" or "/dev/pts/ptmx";

    private static string Describe(ProcessView proc, FdInfo info) => info.Target switch
    {
        var t when t.StartsWith("pipe:", StringComparison.Ordinal) => $"a pipe, {t}",
        var t when t.StartsWith("socket:", StringComparison.Ordinal) => $"a socket, {t}",
        var t when t.StartsWith("anon_inode:", StringComparison.Ordinal) => $"an {t[11..].Trim('[', ']')} descriptor",
        "/dev/null" => "/dev/null",
        _ => Q(proc.FdTarget(info)),
    };
}
