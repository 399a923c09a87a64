using Whyfail.Events;

namespace Whyfail.Analysis.Verdict;

/// <summary>
/// Questions asked of a descriptor whose "no" is the answer: lseek on a pipe or terminal (ESPIPE: not
/// seekable, so stdio does not seek), fcntl(F_GETFD) on a closed one (EBADF: "is it open?", as shells test
/// the descriptors they want to use), getpeername on a descriptor that is not a connected socket.
/// </summary>
public sealed class DescriptorProbe : IRoutinePattern
{
    public bool Strong => true;

    public Routine? Judge(Tracked t, ProcessTrack process)
    {
        var ev = t.Event;
        string? errno = Decoding.Errno.Name(ev.Errno);
        if (ev.Syscall == "lseek" && errno == "ESPIPE")
            return new Routine("probe", "descriptor probes", "lseek asked whether the descriptor can seek (a pipe or terminal cannot)");
        if (ev.Syscall == "fcntl" && errno == "EBADF" && ev.DecodedArgs.Count > 1 && ev.DecodedArgs[1] == "F_GETFD")
            return new Routine("probe", "descriptor probes", "fcntl(F_GETFD) asked whether the descriptor is open");
        if (ev.Syscall is "getpeername" or "getsockname" && errno is "ENOTSOCK" or "ENOTCONN")
            return new Routine("probe", "descriptor probes", $"{ev.Syscall} asked whether the descriptor is a (connected) socket");
        return null;
    }
}
