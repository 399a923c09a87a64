namespace Whyfail.Metrics;

/// <summary>
/// Keeps a label's cardinality bounded: the first <paramref name="limit"/> distinct values seen keep their
/// own value, every later one is counted under "other". (A counter cannot move between series, so the
/// names that get a series are fixed once given: on a long-running host these are the first, and in
/// practice the busiest, names.)
/// </summary>
public sealed class BoundedLabel(int limit)
{
    public const string Other = "other";
    private readonly HashSet<string> _kept = [];

    public int Limit { get; } = limit;

    public string Map(string value)
    {
        if (_kept.Contains(value)) return value;
        if (_kept.Count >= Limit) return Other;
        _kept.Add(value);
        return value;
    }
}
