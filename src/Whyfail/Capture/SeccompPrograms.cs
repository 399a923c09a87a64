using System.Buffers.Binary;
using Whyfail.Capture.Bpf;
using Whyfail.Events;

namespace Whyfail.Capture;

/// <summary>
/// The seccomp filter programs the kernel side sends (WF_REC_SECCOMP records, before the first failure of a thread
/// under them): each filter's instructions by its kernel address, and each thread's newest filter. A failure in seccomp
/// filter mode gets its thread's chain (<see cref="SeccompSnapshot"/>, oldest first) in its context.
/// </summary>
/// <remarks>
/// One ring, read in order on one thread: a thread's records come before the failure they are for, and an address a
/// later filter reuses (after every task holding the old one has gone) is sent again, by a thread that then holds it,
/// before that thread fails. Kept per reading thread, as <see cref="ContextParser"/>'s base contexts are.
/// </remarks>
public static class SeccompPrograms
{
    /// <summary>Instructions kept over all filters (8 bytes each) before the oldest filters are forgotten.</summary>
    public const long MaxInstructions = 4 << 20;

    /// <summary>Threads whose newest filter is kept before the oldest ones are forgotten.</summary>
    public const int MaxThreads = 1 << 16;

    [ThreadStatic] private static Store? t_store;

    /// <summary>WF_REC_SECCOMP records taken (on this thread).</summary>
    public static long Records => t_store?.Records ?? 0;

    public static void Add(ReadOnlySpan<byte> record) => (t_store ??= new Store()).Add(record);

    /// <summary>
    /// <paramref name="context"/> with the filters thread <paramref name="tid"/> holds (when it is in filter mode and
    /// they are all known: <see cref="FailureContext.SeccompFilters"/> of them); the same object when it has them already.
    /// </summary>
    public static FailureContext Attach(FailureContext context, int tid)
    {
        if (context.SeccompMode != 2) return context;
        var chain = t_store?.ChainOf(tid, context.SeccompFilters);
        return ReferenceEquals(chain, context.Seccomp) ? context : context with { Seccomp = chain };
    }

    /// <summary>Forgets everything (tests; a new capture).</summary>
    public static void Clear() => t_store = null;

    private sealed class Filter(ulong prev, int length, bool known)
    {
        public readonly ulong Prev = prev;
        public readonly byte[] Bytes = new byte[length * 8];
        public int Have;
        public bool Known = known;
    }

    private sealed class Store
    {
        private readonly Dictionary<ulong, Filter> _filters = [];
        private readonly Queue<ulong> _order = new();
        private readonly Dictionary<int, ulong> _newest = [];
        private readonly Queue<int> _threads = new();
        private readonly Dictionary<ulong, SeccompSnapshot> _chains = [];
        private long _instructions;
        private long _serial;
        public long Records;

        public void Add(ReadOnlySpan<byte> r)
        {
            if (r.Length < WfSeccompRec.Layout.Insns) return;
            // the header's fields (the struct's full size is its largest record's: a record holds n instructions)
            ulong address = U64(r, WfSeccompRec.Layout.Filter), prev = U64(r, WfSeccompRec.Layout.Prev);
            int len = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(r[WfSeccompRec.Layout.Len..]), 1u << 16);
            int first = BinaryPrimitives.ReadUInt16LittleEndian(r[WfSeccompRec.Layout.First..]);
            int n = BinaryPrimitives.ReadUInt16LittleEndian(r[WfSeccompRec.Layout.N..]);
            int flags = BinaryPrimitives.ReadUInt16LittleEndian(r[WfSeccompRec.Layout.Flags..]);
            int tid = (int)BinaryPrimitives.ReadUInt32LittleEndian(r[WfSeccompRec.Layout.Tid..]);
            Records++;
            bool readable = (flags & (WfConst.SeccompNoProgram | WfConst.SeccompUnreadable)) == 0;
            if (first == 0 || !_filters.TryGetValue(address, out var f) || f.Prev != prev || f.Bytes.Length != len * 8)
            {
                // A new filter (or an address that names another one now): its first record starts it over.
                f = new Filter(prev, len, readable);
                if (_filters.Remove(address, out var old)) _instructions -= old.Bytes.Length / 8;
                _filters[address] = f;
                _order.Enqueue(address);
                _instructions += len;
                _chains.Clear(); // chains through the old filter at this address are no longer it
            }
            int bytes = Math.Min(n * 8, r.Length - WfSeccompRec.Layout.Insns);
            if (readable && first * 8 + bytes <= f.Bytes.Length)
            {
                r.Slice(WfSeccompRec.Layout.Insns, bytes).CopyTo(f.Bytes.AsSpan(first * 8));
                f.Have += bytes / 8;
            }
            else
                f.Known = false;
            if ((flags & WfConst.SeccompNewest) != 0)
            {
                if (!_newest.ContainsKey(tid)) _threads.Enqueue(tid);
                _newest[tid] = address;
                while (_newest.Count > MaxThreads && _threads.TryDequeue(out int t)) _newest.Remove(t);
            }
            while (_instructions > MaxInstructions && _order.TryDequeue(out ulong a))
                if (_filters.Remove(a, out var gone))
                {
                    _instructions -= gone.Bytes.Length / 8;
                    _chains.Clear();
                }
        }

        private static ulong U64(ReadOnlySpan<byte> r, int at) => BinaryPrimitives.ReadUInt64LittleEndian(r[at..]);

        /// <summary>The thread's chain, oldest first; null when it is not known or not <paramref name="count"/> filters long.</summary>
        public SeccompSnapshot? ChainOf(int tid, int count)
        {
            if (!_newest.TryGetValue(tid, out ulong newest)) return null;
            if (_chains.TryGetValue(newest, out var known)) return known.Programs.Count == count ? known : null;
            var programs = new List<byte[]?>();
            for (ulong a = newest; a != 0; a = _filters[a].Prev)
            {
                if (!_filters.TryGetValue(a, out var f) || programs.Count >= count) return null; // forgotten, or not this chain
                programs.Add(f.Known && f.Have * 8 == f.Bytes.Length ? f.Bytes : null);
            }
            if (programs.Count != count) return null;
            programs.Reverse();
            var chain = new SeccompSnapshot(programs, newest) { Serial = ++_serial };
            _chains[newest] = chain;
            return chain;
        }
    }
}
