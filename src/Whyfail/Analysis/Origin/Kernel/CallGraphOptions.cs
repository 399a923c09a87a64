using System.Text;

namespace Whyfail.Analysis.Origin.Kernel;

/// <summary>How far and how wide <see cref="CallGraph"/> explores, and what it keeps.</summary>
public sealed record CallGraphOptions
{
    /// <summary>Calls followed from the syscall entry (the entry is depth 0).</summary>
    public int MaxDepth { get; init; } = 6;

    /// <summary>At most this many functions are returned (the shallowest first).</summary>
    public int MaxFunctions { get; init; } = 400;

    /// <summary>A bound on the functions disassembled, whatever the filters keep.</summary>
    public int MaxVisited { get; init; } = 20_000;

    /// <summary>Functions longer than this are scanned up to it only.</summary>
    public int MaxFunctionBytes { get; init; } = 64 * 1024;

    /// <summary>Follow JMP/Jcc to the start of another function (a tail call) as a call.</summary>
    public bool FollowTailCalls { get; init; } = true;

    /// <summary>Add the callees that indirect calls hide: capability helpers, permission checks, LSM hook implementations.</summary>
    public bool AddIndirectFamilies { get; init; } = true;

    /// <summary>Keep only functions listed in available_filter_functions.</summary>
    public bool RequireTraceable { get; init; } = true;

    /// <summary>Keep only functions whose BTF return type can carry an errno (integer ≥ 4 bytes, pointer).</summary>
    public bool RequireErrnoReturn { get; init; } = true;

    /// <summary>Names skipped in addition to <see cref="CallGraphDenylist.Default"/> (a trailing '*' makes a prefix).</summary>
    public IReadOnlyList<string> ExtraDeny { get; init; } = [];

    /// <summary>
    /// When not empty, only functions whose name starts with one of these are scanned below depth 0 (the others are kept,
    /// not followed): the walk stays inside one file system's or protocol's code (shmem_write_begin → shmem_get_folio_gfp …).
    /// </summary>
    public IReadOnlyList<string> FollowOnly { get; init; } = [];

    /// <summary>A canonical spelling of every option, for cache keys.</summary>
    public string CacheKey()
    {
        var sb = new StringBuilder();
        sb.Append("d").Append(MaxDepth).Append("-n").Append(MaxFunctions).Append("-v").Append(MaxVisited)
          .Append("-b").Append(MaxFunctionBytes)
          .Append(FollowTailCalls ? "-tail" : "").Append(AddIndirectFamilies ? "-fam" + IndirectCallFamilies.Revision : "")
          .Append(RequireTraceable ? "-tr" : "").Append(RequireErrnoReturn ? "-errno" : "");
        if (FollowOnly.Count > 0) sb.Append("-only:").AppendJoin(',', FollowOnly.Order(StringComparer.Ordinal));
        if (ExtraDeny.Count > 0) sb.Append("-deny:").AppendJoin(',', ExtraDeny.Order(StringComparer.Ordinal));
        return sb.ToString();
    }
}
