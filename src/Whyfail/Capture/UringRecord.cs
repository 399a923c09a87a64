using System.Runtime.InteropServices;
using System.Text;
using Whyfail.Capture.Bpf;
using Whyfail.Events;

namespace Whyfail.Capture;

/// <summary>struct wf_uring_rec: an io_uring request of a traced task completed with an error.</summary>
public static unsafe class UringRecord
{
    /// <summary>The completion as a failure delivered as data (numbered as io_uring_enter), or null when the record is short or not one.</summary>
    public static SyscallEvent? Parse(ReadOnlySpan<byte> r)
    {
        if (r.Length < WfUringRec.SizeOf) return null;
        var u = MemoryMarshal.Read<WfUringRec>(r);
        if (u.Type != WfConst.RecUring || u.Res >= 0) return null;
        var comm = new ReadOnlySpan<byte>(u.Comm, WfUringRec.Layout.CommCount);
        int nul = comm.IndexOf((byte)0);
        return new SyscallEvent
        {
            Nr = Decoding.SyscallTable.TryGetNumber("io_uring_enter", out int nr) ? nr : -1,
            TimestampNs = u.TsNs,
            Ret = u.Res,
            KernelRet = u.Res,
            Pid = (int)u.Tgid,
            Tid = (int)u.Tid,
            Comm = Encoding.UTF8.GetString(nul >= 0 ? comm[..nul] : comm),
            ErrorAsData = true,
            Uring = new UringCompletion(u.Opcode, u.UserData),
        };
    }
}
