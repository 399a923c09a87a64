using System.Buffers.Binary;
using System.Text;
using Whyfail.Events;

namespace Whyfail.Capture;

/// <summary>Reads a struct wf_context section (and its wf_ctx_file records) into a <see cref="FailureContext"/>.</summary>
public static class ContextParser
{
    public const int HeaderSize = 272, FileHeaderSize = 64, MaxGroups = 16, Limits = 6;
    private const ushort CtxNoNewPrivs = 1, CtxEntryTracked = 2, CtxNotEntered = 4, CtxFdsCounted = 8;
    private const ulong RlimInfinity = ulong.MaxValue;

    public static FailureContext? Parse(ReadOnlySpan<byte> r)
    {
        if (r.Length < HeaderSize) return null;
        int nFiles = U16(r, 4);
        ushort flags = U16(r, 6);
        int ngroups = (int)U32(r, 40);
        var groups = new List<uint>();
        for (int i = 0; i < Math.Min(Math.Max(ngroups, 0), MaxGroups); i++) groups.Add(U32(r, 48 + 4 * i));
        var limits = new Dictionary<string, (ulong?, ulong?)>(StringComparer.Ordinal);
        for (int k = 0; k < Limits; k++)
        {
            ulong cur = U64(r, 152 + 8 * k), max = U64(r, 200 + 8 * k);
            limits[FailureContext.LimitNames[k]] = (cur == RlimInfinity ? null : cur, max == RlimInfinity ? null : max);
        }
        ContextFile? cwd = null, root = null;
        var files = new List<ContextFile>();
        int off = HeaderSize;
        for (int k = 0; k < nFiles && off + FileHeaderSize <= r.Length; k++)
        {
            var f = ParseFile(r[off..], out int size);
            off += size;
            if (f.Fd == ContextFile.CwdFd && f.Arg < 0) cwd = f;
            else if (f.Fd == ContextFile.RootFd && f.Arg < 0) root = f;
            else files.Add(f);
        }
        return new FailureContext
        {
            Uid = U32(r, 8), Euid = U32(r, 12), Suid = U32(r, 16), Fsuid = U32(r, 20),
            Gid = U32(r, 24), Egid = U32(r, 28), Sgid = U32(r, 32), Fsgid = U32(r, 36),
            GroupCount = ngroups,
            Securebits = U32(r, 44),
            Groups = groups,
            CapEffective = U64(r, 112),
            CapPermitted = U64(r, 120),
            SeccompMode = (int)U32(r, 128),
            SeccompFilters = (int)U32(r, 132),
            Umask = U32(r, 136),
            OpenFds = (flags & CtxFdsCounted) != 0 ? (int)U32(r, 140) : null,
            MaxFds = U32(r, 144),
            NoNewPrivs = (flags & CtxNoNewPrivs) != 0,
            EntryTracked = (flags & CtxEntryTracked) != 0,
            NotEntered = (flags & CtxEntryTracked) != 0 && (flags & CtxNotEntered) != 0,
            Limits = limits,
            SignalsIgnored = U64(r, 248),
            SignalsCaught = U64(r, 256),
            SignalsBlocked = U64(r, 264),
            Cwd = cwd,
            Root = root,
            Files = files,
        };
    }

    private static ContextFile ParseFile(ReadOnlySpan<byte> r, out int size)
    {
        int namesLen = (int)Math.Min(U32(r, 24), (uint)Math.Max(r.Length - FileHeaderSize, 0));
        size = FileHeaderSize + ((namesLen + 7) & ~7);
        var names = new List<string>();
        var raw = r.Slice(FileHeaderSize, namesLen);
        while (raw.Length > 0)
        {
            int nul = raw.IndexOf((byte)0);
            var name = nul >= 0 ? raw[..nul] : raw;
            names.Add(Encoding.UTF8.GetString(name));
            raw = nul >= 0 ? raw[(nul + 1)..] : [];
        }
        var fsType = r.Slice(48, 16);
        int end = fsType.IndexOf((byte)0);
        return new ContextFile(
            Fd: BinaryPrimitives.ReadInt32LittleEndian(r),
            Arg: r[4] == 0xff ? -1 : r[4],
            Flags: (ContextFileFlags)U16(r, 6),
            Mode: U32(r, 8),
            OpenFlags: U32(r, 12),
            Dev: U32(r, 16),
            MountId: BinaryPrimitives.ReadInt32LittleEndian(r[20..]),
            Inode: U64(r, 32),
            Position: BinaryPrimitives.ReadInt64LittleEndian(r[40..]),
            FsType: Encoding.UTF8.GetString(end >= 0 ? fsType[..end] : fsType),
            Names: names);
    }

    private static ushort U16(ReadOnlySpan<byte> r, int o) => BinaryPrimitives.ReadUInt16LittleEndian(r[o..]);
    private static uint U32(ReadOnlySpan<byte> r, int o) => BinaryPrimitives.ReadUInt32LittleEndian(r[o..]);
    private static ulong U64(ReadOnlySpan<byte> r, int o) => BinaryPrimitives.ReadUInt64LittleEndian(r[o..]);
}
