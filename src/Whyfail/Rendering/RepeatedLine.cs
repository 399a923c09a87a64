using System.Buffers;
using System.Buffers.Text;
using Whyfail.Events;

namespace Whyfail.Rendering;

/// <summary>
/// The JSON lines of the last syscall events written, from their "comm" to their end, and what that part was made of. A
/// flood of one failure (a loop retrying a missing file) differs from one line to the next only in "ts_ns", "pid" and
/// "tid": a repeat is written as those three numbers and the bytes of an earlier line's rest (~1.7 KB copied instead of
/// ~60 values formatted and escaped), the same bytes the writer would make (issue 16: the consumer's cost per event).
/// A few lines are kept (<see cref="Slots"/>), as the threads of a flood take turns and each thread's line can differ from
/// the other's in its own objects (its context, the address of its copy of a path). Only events without evidence, origin,
/// consequence or any of the rarer fields are kept; an explanation is compared by its entries' identity (an identical
/// failure's reused explanation is the same objects: <c>ExplanationReuse</c>); every field written after "tid" is compared
/// (RepeatedLineTests changes each one and compares with the long way).
/// </summary>
internal sealed class RepeatedLine
{
    /// <summary>Lines kept, each replaced in turn.</summary>
    public const int Slots = 4;

    /// <summary>Lines written as a repeat (for tests and the bench).</summary>
    public long Repeats { get; private set; }

    private readonly Line[] _lines = [.. Enumerable.Range(0, Slots).Select(_ => new Line())];
    private int _next;
    private Line? _matched;

    /// <summary>Nothing but the fields compared here is written after "tid" for such an event.</summary>
    private static bool Plain(SyscallEvent ev) =>
        !ev.HasEvidence && ev.Origin is null && ev.OriginMissed is null && ev.OriginRecords.Count == 0 &&
        ev.InjectedBy is null && ev.DeniedBy is null && ev.Uring is null && ev.Consequence is null && ev.Args.Length <= 6;

    /// <summary>Whether <paramref name="ev"/>'s line after "tid" is a kept one, byte for byte (then <see cref="Write"/> writes it).</summary>
    public bool Matches(SyscallEvent ev)
    {
        _matched = null;
        if (!Plain(ev)) return false;
        foreach (var line in _lines)
            if (line.Matches(ev))
            {
                _matched = line;
                return true;
            }
        return false;
    }

    /// <summary>After <paramref name="ev"/>'s line was written the long way: <paramref name="tail"/> is its part after "tid".</summary>
    public void Keep(SyscallEvent ev, ReadOnlySpan<byte> tail)
    {
        if (!Plain(ev)) return;
        _lines[_next].Keep(ev, tail);
        _next = (_next + 1) % _lines.Length;
    }

    private static readonly byte[] Head = "{\"type\":\"syscall\",\"ts_ns\":"u8.ToArray(), Pid = ",\"pid\":"u8.ToArray(), Tid = ",\"tid\":"u8.ToArray();

    /// <summary>A repeat's line but its newline: the head with its time and ids as the writer formats numbers, then the kept rest.</summary>
    public void Write(IBufferWriter<byte> output, SyscallEvent ev)
    {
        var tail = _matched!.Tail;
        var span = output.GetSpan(Head.Length + Pid.Length + Tid.Length + 3 * 20 + tail.Length);
        int n = 0;
        Head.CopyTo(span);
        n += Head.Length;
        Utf8Formatter.TryFormat(ev.TimestampNs, span[n..], out int w);
        n += w;
        Pid.CopyTo(span[n..]);
        n += Pid.Length;
        Utf8Formatter.TryFormat((long)ev.Pid, span[n..], out w);
        n += w;
        Tid.CopyTo(span[n..]);
        n += Tid.Length;
        Utf8Formatter.TryFormat((long)ev.Tid, span[n..], out w);
        n += w;
        tail.CopyTo(span[n..]);
        output.Advance(n + tail.Length);
        Repeats++;
    }

    /// <summary>One kept line's rest and what it was made of.</summary>
    private sealed class Line
    {
        private bool _valid;
        private string _comm = "", _syscall = "";
        private uint _uid, _euid;
        private int _nr;
        private readonly ulong[] _args = new ulong[6];
        private int _nargs;
        private IReadOnlyList<string>? _decoded;
        private long _ret, _kernelRet;
        private bool _errorAsData, _captureTruncated, _evidenceLost, _followUp;
        private FailureContext? _context;
        private Routine? _routine;
        private Explanation[] _explanation = [];
        private ulong _cgroupId;
        private CgroupInfo? _cgroup;
        private byte[] _tail = new byte[2048];
        private int _tailLength;

        public ReadOnlySpan<byte> Tail => _tail.AsSpan(0, _tailLength);

        /// <summary>Every field written after "tid" is this line's (<see cref="Plain"/> checked by the caller).</summary>
        public bool Matches(SyscallEvent ev) =>
            _valid && ev.Nr == _nr && ev.Ret == _ret && ev.KernelRet == _kernelRet && ev.ErrorAsData == _errorAsData &&
            ev.Uid == _uid && ev.Euid == _euid && ev.CaptureTruncated == _captureTruncated && ev.EvidenceLost == _evidenceLost &&
            ev.FollowUp == _followUp && ev.CgroupId == _cgroupId &&
            ReferenceEquals(ev.DecodedArgs, _decoded) && ev.Args.AsSpan().SequenceEqual(_args.AsSpan(0, _nargs)) &&
            ev.Comm == _comm && ev.Syscall == _syscall &&
            Same(ev.Context, _context) && Same(ev.Routine, _routine) && Same(ev.Cgroup, _cgroup) && SameExplanation(ev);

        /// <summary>The same explanation entries (objects), in the same order; none for none.</summary>
        private bool SameExplanation(SyscallEvent ev)
        {
            if (!ev.HasExplanation) return _explanation.Length == 0;
            var list = ev.Explanation;
            if (list.Count != _explanation.Length) return false;
            for (int i = 0; i < list.Count; i++)
                if (!ReferenceEquals(list[i], _explanation[i])) return false;
            return true;
        }

        private static bool Same<T>(T? a, T? b) where T : class, IEquatable<T> => ReferenceEquals(a, b) || (a is not null && a.Equals(b));

        public void Keep(SyscallEvent ev, ReadOnlySpan<byte> tail)
        {
            _valid = true;
            (_comm, _syscall, _uid, _euid, _nr, _decoded) = (ev.Comm, ev.Syscall, ev.Uid, ev.Euid, ev.Nr, ev.DecodedArgs);
            (_ret, _kernelRet, _errorAsData, _captureTruncated, _evidenceLost, _followUp) =
                (ev.Ret, ev.KernelRet, ev.ErrorAsData, ev.CaptureTruncated, ev.EvidenceLost, ev.FollowUp);
            (_context, _routine, _cgroupId, _cgroup) = (ev.Context, ev.Routine, ev.CgroupId, ev.Cgroup);
            _explanation = ev.HasExplanation ? [.. ev.Explanation] : [];
            _nargs = ev.Args.Length;
            ev.Args.CopyTo(_args, 0);
            if (_tail.Length < tail.Length) _tail = new byte[Math.Max(tail.Length, 2 * _tail.Length)];
            tail.CopyTo(_tail);
            _tailLength = tail.Length;
        }
    }
}
