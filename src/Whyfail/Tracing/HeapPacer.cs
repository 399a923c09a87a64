namespace Whyfail.Tracing;

/// <summary>
/// Keeps the managed heap close to what is live during a --system session that sees a flood of events. The .NET GC sizes
/// its youngest generation from the CPU's last-level cache; on servers with a large L3, and on VMs that report one
/// (this project's host reports 508 MB through sysconf), that budget is hundreds of MB, so `whyfail --system` under
/// 5,000 failures/s held 150–270 MB of garbage between collections (bench/README: a NativeAOT program allocating
/// 100 MB here makes no gen0 collection, with or without DOTNET_GCgen0size / GCgen0MaxBudget). NativeAOT has no
/// documented project setting for that budget (Whyfail.csproj embeds a 16 MiB minimum with --runtimeopt, for start-up;
/// it does not bound the budget), so the
/// session collects generations 0 and 1 itself after every <see cref="YoungBytes"/> allocated (unless the GC did),
/// and the whole heap when what was allocated since the last full collection reaches twice what it left (at least
/// <see cref="MinFullBytes"/>). Cheap when idle: one read of the allocation counter after each poll of the ring buffer.
/// </summary>
public sealed class HeapPacer
{
    /// <summary>Allocation between collections of generations 0 and 1.</summary>
    public const long YoungBytes = 8 << 20;
    /// <summary>Least allocation between full collections (events held for the verdict reach generation 2).</summary>
    public const long MinFullBytes = 48 << 20;

    private long _young = GC.GetTotalAllocatedBytes(), _full = GC.GetTotalAllocatedBytes(), _liveAfterFull;
    private int _gen1Count = GC.CollectionCount(1);

    /// <summary>Collections this pacer asked for (young, full).</summary>
    public (int Young, int Full) Collections { get; private set; }

    /// <summary>Called after each batch of events.</summary>
    public void Step()
    {
        long allocated = GC.GetTotalAllocatedBytes();
        if (allocated - _full >= Math.Max(MinFullBytes, 2 * _liveAfterFull))
        {
            // Swept, not compacted: the GC was about a fifth of whyfail's CPU samples in bench/soak (perf), most of it
            // moving survivors; the free space left in place is where the next events are allocated.
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: false);
            _full = _young = allocated;
            _liveAfterFull = GC.GetGCMemoryInfo(GCKind.FullBlocking).HeapSizeBytes;
            Collections = (Collections.Young, Collections.Full + 1);
        }
        else if (allocated - _young >= YoungBytes)
        {
            // Not when the GC collected generation 1 by itself meanwhile.
            if (GC.CollectionCount(1) == _gen1Count)
            {
                GC.Collect(1, GCCollectionMode.Forced, blocking: true, compacting: false);
                Collections = (Collections.Young + 1, Collections.Full);
            }
            _young = allocated;
            _gen1Count = GC.CollectionCount(1);
        }
    }
}
