namespace Whyfail.Decoding;

/// <summary>"Did you mean" candidates for a misspelt name: small edit distance, or a shared prefix.</summary>
internal static class Suggest
{
    public static IReadOnlyList<string> Closest(string bad, IEnumerable<string> candidates, int max = 5)
    {
        var query = bad.Trim().ToLowerInvariant();
        if (query.Length == 0) return [];
        int budget = query.Length <= 3 ? 1 : query.Length <= 8 ? 2 : 3;
        var scored = new List<(string Name, int Score)>();
        foreach (var c in candidates.Distinct(StringComparer.Ordinal))
        {
            var lc = c.ToLowerInvariant();
            if (lc == query) continue;
            int d = Distance(query, lc);
            if (d <= budget)
                scored.Add((c, d * 2));
            else if (query.Length >= 3 && lc.StartsWith(query, StringComparison.Ordinal))
                scored.Add((c, 2 * budget + 1 + (lc.Length - query.Length)));
        }
        return scored.OrderBy(s => s.Score).ThenBy(s => s.Name.Length).ThenBy(s => s.Name, StringComparer.Ordinal)
                     .Take(max).Select(s => s.Name).ToList();
    }

    /// <summary>Optimal string alignment distance (Levenshtein plus adjacent transpositions).</summary>
    internal static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                int v = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    v = Math.Min(v, d[i - 2, j - 2] + 1);
                d[i, j] = v;
            }
        }
        return d[a.Length, b.Length];
    }
}
