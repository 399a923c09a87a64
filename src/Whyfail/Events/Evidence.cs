using System.Text.Json;

namespace Whyfail.Events;

/// <summary>
/// Something the kernel did during the failing call (a denied capability check, a signal, a seccomp
/// verdict). Each kind renders itself as one line of text and as a JSON object with a "kind" field.
/// </summary>
public abstract class Evidence
{
    public abstract string Kind { get; }
    /// <summary>One line for people, e.g. "capability CAP_SYS_ADMIN denied (euid 1000, user namespace level 0)".</summary>
    public abstract string Text { get; }
    /// <summary>Writes the fields after "kind" (the caller writes the object braces and "kind").</summary>
    public abstract void WriteJsonFields(Utf8JsonWriter w);
}

/// <summary>A plain-language cause, produced by one explanation rule from evidence and live state.</summary>
/// <param name="Rule">Stable rule id, e.g. "path.missing_component".</param>
/// <param name="Text">The sentence.</param>
/// <param name="Fix">A suggested fix, when one is known.</param>
/// <param name="Certain">False when the rule infers ("probably …").</param>
public sealed record Explanation(string Rule, string Text, string? Fix = null, bool Certain = true);

/// <summary>Where in the kernel the error was born (filled by origin backends, issue-level feature).</summary>
public sealed class Origin
{
    public string Function { get; init; } = "";
    public long Offset { get; init; }
    public IReadOnlyList<string> Chain { get; init; } = [];
    public IReadOnlyList<string> ErrnoChanges { get; init; } = [];
    public string Backend { get; init; } = "";
    public string Confidence { get; init; } = "";
    /// <summary>The origin's callers from its kernel stack ("vfs_write+0x2a1"), traced or not, innermost first.</summary>
    public IReadOnlyList<string> Stack { get; init; } = [];
    /// <summary>Deeper functions that returned a different error first, which the chain then changed (innermost first).</summary>
    public IReadOnlyList<string> Inner { get; init; } = [];
    /// <summary>Parallel to <see cref="Chain"/>: false for functions seen only on the kernel stack (not watched).</summary>
    public IReadOnlyList<bool> ChainWatched { get; init; } = [];
    /// <summary>The origin function was not watched: it was placed from the kernel stack (a later occurrence may confirm it).</summary>
    public bool Inferred { get; init; }
}
