using System.Text.RegularExpressions;
using Whyfail.Analysis.Explain;
using Xunit;

namespace Whyfail.Tests.Architecture;

/// <summary>
/// The pipeline's direction in the source tree: capture (kernel) → events → analysis → rendering, with
/// Decoding's tables beside them and the sessions (Tracing, Graph, Cli) on top. Read from the source files.
/// </summary>
public class LayeringTests
{
    internal static string SourceRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "whyfail.slnx"))) return Path.Combine(d.FullName, "src", "Whyfail");
        throw new InvalidOperationException("repository root not found above " + AppContext.BaseDirectory);
    }

    /// <summary>What each folder (namespace Whyfail.X) must not use.</summary>
    public static TheoryData<string, string[]> Forbidden => new()
    {
        { "Events", ["Capture", "Analysis", "Rendering", "Tracing", "Graph", "Cli"] },
        { "Decoding", ["Capture", "Analysis", "Rendering", "Tracing", "Graph", "Cli"] },
        { "Capture", ["Analysis", "Rendering", "Tracing", "Graph", "Cli"] },
        { "Analysis", ["Rendering", "Tracing", "Graph", "Cli"] },
        { "Rendering", ["Capture", "Analysis", "Tracing", "Graph", "Cli"] },
    };

    [Theory]
    [MemberData(nameof(Forbidden))]
    public void NoImportAgainstThePipeline(string layer, string[] forbidden)
    {
        var dir = Path.Combine(SourceRoot(), layer);
        var files = Directory.GetFiles(dir, "*.cs", SearchOption.AllDirectories);
        Assert.NotEmpty(files);
        var pattern = new Regex(@"\b(?:global::)?Whyfail\.(" + string.Join('|', forbidden) + @")\b");
        var violations = new List<string>();
        foreach (var file in files)
        {
            var lines = File.ReadAllLines(file);
            for (int i = 0; i < lines.Length; i++)
            {
                var line = lines[i].TrimStart();
                if (line.StartsWith("//")) continue; // comments (and doc comments) may name anything
                if (pattern.Match(line) is { Success: true } m)
                    violations.Add($"{Path.GetRelativePath(SourceRoot(), file)}:{i + 1}: {layer} uses {m.Groups[1].Value}: {line}");
            }
        }
        Assert.True(violations.Count == 0, string.Join('\n', violations));
    }

    [Fact]
    public void TheCheckSeesAnImportAgainstTheDirection()
    {
        // The pattern above on a line that would break the rule (the test cannot pass by matching nothing).
        var pattern = new Regex(@"\b(?:global::)?Whyfail\.(Analysis|Rendering)\b");
        Assert.Matches(pattern, "using Whyfail.Analysis.Evidence;");
        Assert.Matches(pattern, "var x = global::Whyfail.Rendering.TextSafety.Sanitize(s);");
        Assert.DoesNotMatch(pattern, "using Whyfail.Events;");
    }

    [Fact]
    public void RuleIdsAreUniqueAndEachIsDocumented()
    {
        var ids = ExplainEngine.AllRules.Select(r => r.Id).ToList();
        Assert.True(ids.Count > 40, $"only {ids.Count} rules found");
        var duplicates = ids.GroupBy(i => i).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(duplicates.Count == 0, "duplicate rule ids: " + string.Join(", ", duplicates));

        var doc = File.ReadAllText(Path.Combine(SourceRoot(), "..", "..", "docs", "json.md"));
        var undocumented = ids.Where(id => !doc.Contains($"`{id}`")).ToList();
        Assert.True(undocumented.Count == 0, "rule ids missing from docs/json.md: " + string.Join(", ", undocumented));
    }

    [Fact]
    public void EveryRuleFileIsInTheRuleList()
    {
        // One rule per file under Rules/, and each file's rule runs (a file left out of the list is a dead rule).
        var listed = ExplainEngine.AllRules.Select(r => r.GetType().Name).ToHashSet();
        var files = Directory.GetFiles(Path.Combine(SourceRoot(), "Analysis", "Explain", "Rules"), "*.cs")
            .Where(f => File.ReadAllText(f).Contains(": IExplainRule"))
            .Select(Path.GetFileNameWithoutExtension).ToList();
        Assert.NotEmpty(files);
        Assert.Empty(files.Where(f => !listed.Contains(f!)));
    }
}
