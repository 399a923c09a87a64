using System.Runtime.InteropServices;
using System.Text;
using Whyfail.Capture.Bpf;
using Whyfail.Events;

namespace Whyfail.Capture;

/// <summary>
/// Reads a struct wf_context section (and its wf_ctx_file records) into a <see cref="FailureContext"/>, with the
/// generated layouts (<see cref="WfContext"/>, <see cref="WfCtxFile"/>).
/// </summary>
public static unsafe class ContextParser
{
    public const int HeaderSize = WfContext.SizeOf;
    private const ulong RlimInfinity = ulong.MaxValue;

    public static FailureContext? Parse(ReadOnlySpan<byte> r)
    {
        if (r.Length < WfContext.SizeOf) return null;
        var c = MemoryMarshal.Read<WfContext>(r);
        int ngroups = (int)c.Ngroups;
        var groups = new List<uint>();
        for (int i = 0; i < Math.Min(Math.Max(ngroups, 0), WfContext.Layout.GroupsCount); i++) groups.Add(c.Groups[i]);
        var limits = new Dictionary<string, (ulong?, ulong?)>(StringComparer.Ordinal);
        for (int k = 0; k < WfContext.Layout.RlimCurCount && k < FailureContext.LimitNames.Length; k++)
        {
            ulong cur = c.RlimCur[k], max = c.RlimMax[k];
            limits[FailureContext.LimitNames[k]] = (cur == RlimInfinity ? null : cur, max == RlimInfinity ? null : max);
        }
        ContextFile? cwd = null, root = null;
        var files = new List<ContextFile>();
        var writers = new List<ContextFile>();
        int off = WfContext.SizeOf;
        for (int k = 0; k < c.NFiles && off + WfCtxFile.SizeOf <= r.Length; k++)
        {
            var f = ParseFile(r[off..], out int size);
            off += size;
            if (f.Fd == WfConst.CtxFdCwd && f.Arg < 0) cwd = f;
            else if (f.Fd == WfConst.CtxFdRoot && f.Arg < 0) root = f;
            else if (f.Arg == WfConst.CtxArgWriter) writers.Add(f);
            else files.Add(f);
        }
        bool tracked = (c.Flags & WfConst.CtxfEntryTracked) != 0;
        return new FailureContext
        {
            Uid = c.Uid, Euid = c.Euid, Suid = c.Suid, Fsuid = c.Fsuid,
            Gid = c.Gid, Egid = c.Egid, Sgid = c.Sgid, Fsgid = c.Fsgid,
            GroupCount = ngroups,
            Groups = groups,
            Securebits = c.Securebits,
            CapEffective = c.CapEff,
            CapPermitted = c.CapPrm,
            SeccompMode = (int)c.SeccompMode,
            SeccompFilters = (int)c.SeccompFilters,
            Umask = c.Umask,
            OpenFds = (c.Flags & WfConst.CtxfFdsCounted) != 0 ? (int)c.Nfds : null,
            MaxFds = c.MaxFds,
            NoNewPrivs = (c.Flags & WfConst.CtxfNoNewPrivs) != 0,
            EntryTracked = tracked,
            NotEntered = tracked && (c.Flags & WfConst.CtxfNotEntered) != 0,
            Limits = limits,
            SignalsIgnored = c.SigIgnored,
            SignalsCaught = c.SigCaught,
            SignalsBlocked = c.SigBlocked,
            Cwd = cwd,
            Root = root,
            Files = files,
            Writers = writers,
            WritersAll = (c.Flags & WfConst.CtxfWritersScanned) != 0 && writers.Count < WfConst.CtxFiles,
            Exec = (c.Flags & WfConst.CtxfExecArgs) == 0 ? null
                : new ExecArgs(c.ExecStrings[0], c.ExecBytes[0], c.ExecStrings[1], c.ExecBytes[1], c.ExecLongest,
                    c.ExecLongestVec == 1, c.ExecLongestIndex, (c.Flags & WfConst.CtxfExecPartial) != 0,
                    (c.Flags & WfConst.CtxfExecFault) != 0),
        };
    }

    private static ContextFile ParseFile(ReadOnlySpan<byte> r, out int size)
    {
        var f = MemoryMarshal.Read<WfCtxFile>(r);
        int namesLen = (int)Math.Min(f.NamesLen, (uint)Math.Max(r.Length - WfCtxFile.SizeOf, 0));
        size = WfCtxFile.SizeOf + ((namesLen + 7) & ~7);
        var names = new List<string>();
        var raw = r.Slice(WfCtxFile.SizeOf, namesLen);
        while (raw.Length > 0)
        {
            int nul = raw.IndexOf((byte)0);
            names.Add(Encoding.UTF8.GetString(nul >= 0 ? raw[..nul] : raw));
            raw = nul >= 0 ? raw[(nul + 1)..] : [];
        }
        var fsType = new ReadOnlySpan<byte>(f.Fstype, WfCtxFile.Layout.FstypeCount);
        int end = fsType.IndexOf((byte)0);
        return new ContextFile(f.Fd, f.Arg == 0xff ? -1 : f.Arg, (ContextFileFlags)f.Flags, f.Mode, f.FFlags, f.Dev, f.MntId,
            f.Ino, f.Pos, Encoding.UTF8.GetString(end >= 0 ? fsType[..end] : fsType), names);
    }
}
