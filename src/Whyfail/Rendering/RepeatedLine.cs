using System.Buffers;
using System.Buffers.Text;
using Whyfail.Events;

namespace Whyfail.Rendering;

/// <summary>
/// The JSON line of the last syscall event written, from its "comm" to its end, and what that part was made of. A flood
/// of one failure (a loop retrying a missing file) differs from one line to the next only in "ts_ns", "pid" and "tid":
/// a repeat is written as those three numbers and the bytes of the previous line's rest (~1.7 KB copied instead of
/// ~60 values formatted and escaped), the same bytes the writer would make (issue 16: the consumer's cost per event).
/// Only events without evidence, explanation, origin, consequence or any of the rarer fields are kept; every field
/// written after "tid" is compared (RepeatedLineTests changes each one and compares with the long way).
/// </summary>
internal sealed class RepeatedLine
{
    /// <summary>Lines written as a repeat (for tests and the bench).</summary>
    public long Repeats { get; private set; }

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
    private ulong _cgroupId;
    private CgroupInfo? _cgroup;
    private byte[] _tail = new byte[2048];
    private int _tailLength;

    /// <summary>Nothing but the fields compared here is written after "tid" for such an event.</summary>
    private static bool Plain(SyscallEvent ev) =>
        !ev.HasEvidence && !ev.HasExplanation && ev.Origin is null && ev.OriginMissed is null && ev.OriginRecords.Count == 0 &&
        ev.InjectedBy is null && ev.DeniedBy is null && ev.Uring is null && ev.Consequence is null && ev.Args.Length <= 6;

    /// <summary>Whether <paramref name="ev"/>'s line after "tid" is the kept one, byte for byte.</summary>
    public bool Matches(SyscallEvent ev) =>
        _valid && Plain(ev) && ev.Nr == _nr && ev.Ret == _ret && ev.KernelRet == _kernelRet && ev.ErrorAsData == _errorAsData &&
        ev.Uid == _uid && ev.Euid == _euid && ev.CaptureTruncated == _captureTruncated && ev.EvidenceLost == _evidenceLost &&
        ev.FollowUp == _followUp && ev.CgroupId == _cgroupId &&
        ReferenceEquals(ev.DecodedArgs, _decoded) && ev.Args.AsSpan().SequenceEqual(_args.AsSpan(0, _nargs)) &&
        ev.Comm == _comm && ev.Syscall == _syscall &&
        Same(ev.Context, _context) && Same(ev.Routine, _routine) && Same(ev.Cgroup, _cgroup);

    private static bool Same<T>(T? a, T? b) where T : class, IEquatable<T> => ReferenceEquals(a, b) || (a is not null && a.Equals(b));

    /// <summary>After <paramref name="ev"/>'s line was written the long way: <paramref name="tail"/> is its part after "tid".</summary>
    public void Keep(SyscallEvent ev, ReadOnlySpan<byte> tail)
    {
        _valid = Plain(ev);
        if (!_valid) return;
        (_comm, _syscall, _uid, _euid, _nr, _decoded) = (ev.Comm, ev.Syscall, ev.Uid, ev.Euid, ev.Nr, ev.DecodedArgs);
        (_ret, _kernelRet, _errorAsData, _captureTruncated, _evidenceLost, _followUp) =
            (ev.Ret, ev.KernelRet, ev.ErrorAsData, ev.CaptureTruncated, ev.EvidenceLost, ev.FollowUp);
        (_context, _routine, _cgroupId, _cgroup) = (ev.Context, ev.Routine, ev.CgroupId, ev.Cgroup);
        _nargs = ev.Args.Length;
        ev.Args.CopyTo(_args, 0);
        if (_tail.Length < tail.Length) _tail = new byte[Math.Max(tail.Length, 2 * _tail.Length)];
        tail.CopyTo(_tail);
        _tailLength = tail.Length;
    }

    private static readonly byte[] Head = "{\"type\":\"syscall\",\"ts_ns\":"u8.ToArray(), Pid = ",\"pid\":"u8.ToArray(), Tid = ",\"tid\":"u8.ToArray();

    /// <summary>A repeat's line but its newline: the head with its time and ids as the writer formats numbers, then the kept rest.</summary>
    public void Write(IBufferWriter<byte> output, SyscallEvent ev)
    {
        var span = output.GetSpan(Head.Length + Pid.Length + Tid.Length + 3 * 20 + _tailLength);
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
        _tail.AsSpan(0, _tailLength).CopyTo(span[n..]);
        output.Advance(n + _tailLength);
        Repeats++;
    }
}
