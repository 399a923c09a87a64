using Whyfail.Events;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// EINPROGRESS from connect: the socket is non-blocking and the connection is being set up. Not a failure: the
/// program is expected to wait for the socket to become writable, then read SO_ERROR for the outcome.
/// </summary>
public sealed class ConnectInProgress : IExplainRule
{
    public string Id => "net.connect_in_progress";

    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.EINPROGRESS && ev.Syscall == "connect";

    public bool FromEvidence => true; // EINPROGRESS has one meaning for connect

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        int fd = SyscallArgs.Int(ev, 0);
        yield return new Explanation(Id,
            $"socket {fd} is non-blocking (O_NONBLOCK), so connect started the connection and returned at once instead of waiting for it: " +
            "this is the normal first step of an asynchronous connect, not a failure; the outcome comes later",
            "nothing to fix here; the program should poll the socket for writability and then read SO_ERROR (getsockopt) — a failure, such as ECONNREFUSED, shows there");
    }
}
