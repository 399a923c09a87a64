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
    private const ulong RlimInfinity = Native.Libc.RLIM_INFINITY;

    public static FailureContext? Parse(ReadOnlySpan<byte> r)
    {
        if (r.Length < WfContext.SizeOf) return null;
        var c = MemoryMarshal.Read<WfContext>(r);
        int ngroups = (int)c.Ngroups;
        var last = t_last ??= new Recent();
        var groups = last.GroupsOf(new ReadOnlySpan<uint>(c.Groups, Math.Min(Math.Max(ngroups, 0), WfContext.Layout.GroupsCount)));
        var limits = last.LimitsOf(new ReadOnlySpan<ulong>(c.RlimCur, WfContext.Layout.RlimCurCount), new ReadOnlySpan<ulong>(c.RlimMax, WfContext.Layout.RlimMaxCount));
        ContextFile? cwd = null, root = null;
        List<ContextFile>? files = null, writers = null;
        int off = WfContext.SizeOf;
        for (int k = 0; k < c.NFiles && off + WfCtxFile.SizeOf <= r.Length; k++)
        {
            var f = last.FileOf(r[off..], out int size);
            off += size;
            if (f.Fd == WfConst.CtxFdCwd && f.Arg < 0) cwd = f;
            else if (f.Fd == WfConst.CtxFdRoot && f.Arg < 0) root = f;
            else if (f.Arg == WfConst.CtxArgWriter) (writers ??= []).Add(f);
            else (files ??= []).Add(f);
        }
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
            Limits = limits,
            SignalsIgnored = c.SigIgnored,
            SignalsCaught = c.SigCaught,
            SignalsBlocked = c.SigBlocked,
            Cwd = cwd,
            Root = root,
            Files = (IReadOnlyList<ContextFile>?)files ?? [],
            Writers = (IReadOnlyList<ContextFile>?)writers ?? [],
            WritersAll = (c.Flags & WfConst.CtxfWritersScanned) != 0 && (writers?.Count ?? 0) < WfConst.CtxFiles,
            NetNs = c.NetNs,
            Exec = (c.Flags & WfConst.CtxfExecArgs) == 0 ? null
                : new ExecArgs(c.ExecStrings[0], c.ExecBytes[0], c.ExecStrings[1], c.ExecBytes[1], c.ExecLongest,
                    (c.Flags & WfConst.CtxfExecLongestEnvp) != 0, c.ExecLongestIndex, (c.Flags & WfConst.CtxfExecPartial) != 0,
                    (c.Flags & WfConst.CtxfExecFault) != 0),
        };
    }

    /// <summary>
    /// The base contexts (wf_context.seq != 0) per thread id, for the records that say "same context as before"
    /// (WF_EVF_CONTEXT_SAME, a wf_ctx_ref with the base's seq). The kernel makes a base its key only once the record
    /// carrying it is in the ring buffer, so every base a reference names has been parsed before it (one ring, read
    /// in order, on this thread); a reference to a seq not kept here is answered with no context, never another one.
    /// </summary>
    [ThreadStatic] private static Bases? t_bases;

    /// <summary>References to a base context that was not seen (the failure is reported without a context).</summary>
    public static long UnknownBases => Interlocked.Read(ref s_unknownBases);
    private static long s_unknownBases;

    /// <summary>Base contexts and references to them parsed (WHYFAIL_CONTEXT_STATS=1 prints them at the end).</summary>
    public static long BasesSeen => Interlocked.Read(ref s_bases);
    public static long ReferencesSeen => Interlocked.Read(ref s_references);
    private static long s_bases, s_references;

    public static void KeepBase(int tid, uint seq, FailureContext context, ulong tsNs)
    {
        if (seq == 0) return;
        Interlocked.Increment(ref s_bases);
        (t_bases ??= new Bases()).Keep(tid, seq, context, tsNs);
    }

    public static FailureContext? BaseOf(int tid, uint seq, ulong tsNs)
    {
        Interlocked.Increment(ref s_references);
        if (t_bases?.Of(tid, seq, tsNs) is { } context) return context;
        if (Interlocked.Increment(ref s_unknownBases) == 1)
            Console.Error.WriteLine($"whyfail: warning: a failure of thread {tid} refers to a context whose record was not seen; it is reported without one");
        return null;
    }

    private sealed class Bases
    {
        private sealed class Entry(uint seq, FailureContext context, ulong lastNs)
        {
            public uint Seq = seq;
            public FailureContext Context = context;
            public ulong LastNs = lastNs;
        }

        /// <summary>Bases kept before the ones of threads gone for a minute are let go.</summary>
        private const int Kept = 4096;
        private readonly Dictionary<int, Entry> _byTid = [];
        private int _limit = Kept;

        public void Keep(int tid, uint seq, FailureContext context, ulong tsNs)
        {
            if (_byTid.TryGetValue(tid, out var e))
            {
                (e.Seq, e.Context, e.LastNs) = (seq, context, tsNs);
                return;
            }
            if (_byTid.Count >= _limit) Prune(tsNs);
            _byTid[tid] = new Entry(seq, context, tsNs);
        }

        public FailureContext? Of(int tid, uint seq, ulong tsNs)
        {
            if (!_byTid.TryGetValue(tid, out var e) || e.Seq != seq) return null;
            e.LastNs = tsNs;
            return e.Context;
        }

        /// <summary>
        /// Lets go of the bases of threads that no longer exist and sent nothing for a minute (ring time): their later
        /// records, if any, were reserved before the newer records already read, so none can still refer to them.
        /// </summary>
        private void Prune(ulong nowNs)
        {
            const ulong Minute = 60_000_000_000;
            foreach (var (tid, e) in _byTid)
                if (e.LastNs + Minute < nowNs && !Directory.Exists($"/proc/{tid}"))
                    _byTid.Remove(tid);
            _limit = Math.Max(Kept, _byTid.Count * 2);
        }
    }

    /// <summary>
    /// The limits, groups and files of the last contexts parsed (on this thread). A process's failures carry the same
    /// ones again and again (a flood of failures of one program: the same cwd, root and limits each time); the
    /// objects are immutable, so an identical section shares them instead of allocating and holding a copy per
    /// failure (~1 KB of dictionary and strings each).
    /// </summary>
    [ThreadStatic] private static Recent? t_last;

    private sealed class Recent
    {
        private readonly ulong[] _rlim = new ulong[WfContext.Layout.RlimCurCount + WfContext.Layout.RlimMaxCount];
        private IReadOnlyDictionary<string, (ulong?, ulong?)>? _limits;
        private uint[] _groupIds = [];
        private IReadOnlyList<uint>? _groups;
        /// <summary>The last few file records, raw, with what they were parsed into (cwd, root, a descriptor or two).</summary>
        private readonly (byte[] Raw, ContextFile File)?[] _files = new (byte[], ContextFile)?[4];
        private int _nextFile;

        public IReadOnlyList<uint> GroupsOf(ReadOnlySpan<uint> ids)
        {
            if (_groups is null || !ids.SequenceEqual(_groupIds))
            {
                _groupIds = ids.ToArray();
                _groups = Array.AsReadOnly((uint[])_groupIds.Clone());
            }
            return _groups;
        }

        public IReadOnlyDictionary<string, (ulong?, ulong?)> LimitsOf(ReadOnlySpan<ulong> cur, ReadOnlySpan<ulong> max)
        {
            if (_limits is not null && cur.SequenceEqual(_rlim.AsSpan(0, cur.Length)) && max.SequenceEqual(_rlim.AsSpan(cur.Length, max.Length)))
                return _limits;
            cur.CopyTo(_rlim);
            max.CopyTo(_rlim.AsSpan(cur.Length));
            var limits = new Dictionary<string, (ulong?, ulong?)>(StringComparer.Ordinal);
            for (int k = 0; k < cur.Length && k < max.Length && k < FailureContext.LimitNames.Length; k++)
                limits[FailureContext.LimitNames[k]] = (cur[k] == RlimInfinity ? null : cur[k], max[k] == RlimInfinity ? null : max[k]);
            return _limits = new System.Collections.ObjectModel.ReadOnlyDictionary<string, (ulong?, ulong?)>(limits);
        }

        public ContextFile FileOf(ReadOnlySpan<byte> r, out int size)
        {
            size = FileSize(r);
            var raw = r[..Math.Min(size, r.Length)];
            foreach (var e in _files)
                if (e is { } hit && raw.SequenceEqual(hit.Raw)) return hit.File;
            var f = ParseFile(r, out size);
            _files[_nextFile] = (raw.ToArray(), f);
            _nextFile = (_nextFile + 1) % _files.Length;
            return f;
        }
    }

    /// <summary>Bytes of one wf_ctx_file record and its names (padded to 8), as far as <paramref name="r"/> has them.</summary>
    private static int FileSize(ReadOnlySpan<byte> r)
    {
        var f = MemoryMarshal.Read<WfCtxFile>(r);
        int namesLen = (int)Math.Min(f.NamesLen, (uint)Math.Max(r.Length - WfCtxFile.SizeOf, 0));
        return WfCtxFile.SizeOf + ((namesLen + 7) & ~7);
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
