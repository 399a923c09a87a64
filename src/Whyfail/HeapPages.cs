using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Whyfail.Capture.Native;

namespace Whyfail;

/// <summary>
/// The GC's first gen0 region in transparent huge pages: a start-up allocates ~2 MB before it can trace anything, and each
/// of those fresh 4 KiB pages was a page fault (~600 per run, ~12 µs each on the VM measured; bench/README "Start-up,
/// session 15"). The region (a GC region: aligned to its size, inside the GC's own reservation) is made readable and
/// writable ahead of the GC's 64 KiB commits, marked MADV_HUGEPAGE, and its first 2 MiB, already touched by the runtime's
/// start, collapsed into one huge page (MADV_COLLAPSE, Linux 6.1+): then one fault, or none, per 2 MiB. Nothing is done
/// unless the GC says it uses regions of at least 2 MiB and /proc/self/maps shows the range as anonymous memory only; any
/// refusal leaves the heap as it was. Off unless WHYFAIL_HEAP_HUGE=1 (to be measured on a quiet host: the collapse's
/// wait can stall the start-up on a busy one).
/// </summary>
internal static unsafe class HeapPages
{
    private const int ProtReadWrite = 3, MadvDoDump = 17, MadvHugepage = 14, MadvCollapse = 25;
    private const long Huge = 2 << 20;

    public static void Prepare()
    {
        if (Environment.GetEnvironmentVariable("WHYFAIL_HEAP_HUGE") != "1") return;
        try
        {
            if (Region() is not { } region) return;
            var probe = new byte[1];
            long at = (long)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(probe));
            long lo = at & ~(region - 1), hi = lo + region;
            if (!AnonymousOnly(lo, hi)) return;
            if (Libc.Mprotect((nint)lo, (nuint)region, ProtReadWrite) != 0) return;
            // One mapping for the whole region: the GC marks what it has not committed MADV_DONTDUMP, and a huge page needs
            // its 2 MiB in one mapping (MADV_COLLAPSE said EINVAL without this).
            Libc.Madvise((nint)lo, (nuint)region, MadvDoDump);
            Libc.Madvise((nint)lo, (nuint)region, MadvHugepage);
            // MADV_COLLAPSE first drains every CPU's LRU lists and waits for that (lru_add_drain_all): 0.3-4 ms of wall time
            // usually, but 17-420 ms seen at load 18 (waiting, not CPU). On a thread of its own it came too late under load to
            // save anything and cost CPU: why this is off unless asked for.
            Libc.Madvise((nint)(at & ~(Huge - 1)), (nuint)Huge, MadvCollapse);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>
    /// The GC's region size when it is known to be at least 2 MiB: configured (GCRegionSize), or the GC's own choice, which is
    /// 4 MiB when its range per heap is large (gc.cpp: 4, 2 or 1 MiB from range / 2 / heaps / minimum regions per heap; here
    /// 4 GiB or more per heap is asked, ~50 GiB is usual). Null: segments, or regions that may be smaller.
    /// </summary>
    private static long? Region()
    {
        var config = GC.GetConfigurationVariables();
        long Get(string key) => config.TryGetValue(key, out var v) && v is long l ? l : 0;
        long size = Get("GCRegionSize"), range = Get("GCRegionRange"), heaps = Math.Max(Get("HeapCount"), 1);
        if (size == 0 && range / heaps >= 4L << 30) size = 4 << 20;
        return size >= Huge && (size & (size - 1)) == 0 ? size : null;
    }

    /// <summary>Whether /proc/self/maps covers [lo, hi) without a gap with private anonymous mappings only (no file, no name).</summary>
    internal static bool AnonymousOnly(long lo, long hi) => AnonymousOnly(File.ReadAllBytes("/proc/self/maps"), lo, hi);

    internal static bool AnonymousOnly(ReadOnlySpan<byte> maps, long lo, long hi)
    {
        long covered = lo;
        Span<Range> parts = stackalloc Range[5];
        while (maps.Length > 0 && covered < hi)
        {
            int end = maps.IndexOf((byte)'\n');
            var line = end < 0 ? maps : maps[..end];
            maps = end < 0 ? [] : maps[(end + 1)..];
            // start-end perms offset dev inode [name]
            int dash = line.IndexOf((byte)'-'), sp = line.IndexOf((byte)' ');
            if (dash < 0 || sp < dash) return false;
            long start = Hex(line[..dash]), stop = Hex(line[(dash + 1)..sp]);
            if (stop <= covered || start >= hi) continue;
            if (start > covered) return false; // a gap
            var fields = line[(sp + 1)..];
            // perms, offset, dev, inode, then the name if any: exactly four fields
            int n = 0;
            for (int i = 0; i < fields.Length && n < 5;)
            {
                while (i < fields.Length && fields[i] == (byte)' ') i++;
                if (i == fields.Length) break;
                int from = i;
                while (i < fields.Length && fields[i] != (byte)' ') i++;
                parts[n++] = from..i;
            }
            if (n != 4) return false; // a name: a file, [stack], [heap], [anon:...]
            var perms = fields[parts[0]];
            if (perms.Length != 4 || perms[3] != (byte)'p' || perms[2] != (byte)'-') return false; // private, never executable
            if (!fields[parts[3]].SequenceEqual("0"u8)) return false;
            covered = stop;
        }
        return covered >= hi;
    }

    private static long Hex(ReadOnlySpan<byte> s) =>
        long.TryParse(s, System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out long v) ? v : -1;
}
