using System.Globalization;
using System.Text.RegularExpressions;
using Xunit;

namespace Whyfail.Tests.Architecture;

/// <summary>
/// One source of truth for kernel constants: a constant typed by hand in src/ (for a P/Invoke call or a pattern)
/// whose name is in the generated tables (Decoding/Data/xlat.tsv, from the UAPI headers) must have the tables' value.
/// Read from the source files, so a new hand-typed constant is checked without being listed anywhere.
/// </summary>
public class KernelConstantTests
{
    private static readonly Regex ConstDecl = new(@"\bconst\s+(?:int|uint|long|ulong|short|ushort|byte|nint)\s+([^;]*);", RegexOptions.Compiled);
    private static readonly Regex Assignment = new(@"\b([A-Z][A-Z0-9_]+)\s*=\s*(-?0x[0-9A-Fa-f_]+|-?[0-9_]+)\b", RegexOptions.Compiled);

    /// <summary>Every value each name has in the generated tables (a name may sit in several tables).</summary>
    private static Dictionary<string, HashSet<ulong>> TableValues()
    {
        var values = new Dictionary<string, HashSet<ulong>>();
        foreach (var line in File.ReadLines(Path.Combine(LayeringTests.SourceRoot(), "Decoding", "Data", "xlat.tsv")))
        {
            if (line.StartsWith('#') || line.StartsWith('@')) continue;
            var f = line.Split('\t');
            if (f.Length < 2 || !ulong.TryParse(f[1].AsSpan(f[1].StartsWith("0x") ? 2 : 0), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var v)) continue;
            if (!values.TryGetValue(f[0], out var set)) values[f[0]] = set = [];
            set.Add(v);
        }
        return values;
    }

    /// <summary>The (name, value) pairs a source text declares as constants.</summary>
    internal static IEnumerable<(string Name, long Value)> Constants(string source)
    {
        foreach (Match decl in ConstDecl.Matches(source))
            foreach (Match a in Assignment.Matches(decl.Groups[1].Value))
            {
                var text = a.Groups[2].Value.Replace("_", "");
                bool neg = text.StartsWith('-');
                if (neg) text = text[1..];
                long v = text.StartsWith("0x") ? (long)ulong.Parse(text.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture)
                                               : long.Parse(text, CultureInfo.InvariantCulture);
                yield return (a.Groups[1].Value, neg ? -v : v);
            }
    }

    /// <summary>The disagreements of <paramref name="source"/> with the tables.</summary>
    private static IEnumerable<string> Disagreements(string source, Dictionary<string, HashSet<ulong>> tables, Action? onChecked = null)
    {
        foreach (var (name, value) in Constants(source))
        {
            if (!tables.TryGetValue(name, out var want)) continue;
            onChecked?.Invoke();
            ulong u = (ulong)value;
            if (!want.Contains(u) && !want.Contains(u & 0xffff_ffff))
                yield return $"{name} = {value} (0x{u:x}), the generated tables say {string.Join(" or ", want.Select(w => $"0x{w:x}"))}";
        }
    }

    [Fact]
    public void HandTypedConstantsHaveTheValuesOfTheGeneratedTables()
    {
        var tables = TableValues();
        Assert.True(tables.Count > 500, "xlat.tsv holds the UAPI tables");
        int checkedCount = 0;
        var wrong = new List<string>();
        foreach (var file in Directory.GetFiles(LayeringTests.SourceRoot(), "*.cs", SearchOption.AllDirectories))
        {
            if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")) continue;
            foreach (var d in Disagreements(File.ReadAllText(file), tables, () => checkedCount++))
                wrong.Add($"{Path.GetRelativePath(LayeringTests.SourceRoot(), file)}: {d}");
        }
        Assert.True(wrong.Count == 0, string.Join('\n', wrong));
        // The scan found the constants it exists for (Libc's O_*, AT_*, signal and ptrace numbers …).
        Assert.True(checkedCount > 80, $"only {checkedCount} hand-typed constants were found in the tables");
    }

    [Fact]
    public void TheCheckSeesAWrongValue()
    {
        var tables = TableValues();
        var found = Disagreements("internal const int O_CREAT = 0x80, O_WRONLY = 1, NOT_A_KERNEL_NAME = 7;", tables).ToList();
        Assert.Single(found);
        Assert.StartsWith("O_CREAT = 128", found[0]);
        Assert.Empty(Disagreements("private const int AT_FDCWD = -100;", tables));
    }
}
