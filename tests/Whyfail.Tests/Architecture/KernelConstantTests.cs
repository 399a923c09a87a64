using System.Globalization;
using System.Text.RegularExpressions;
using Xunit;

namespace Whyfail.Tests.Architecture;

/// <summary>
/// One source of truth for kernel constants: a constant whose name is in the generated tables (Decoding/Data/xlat.tsv
/// from the UAPI headers, errno.tsv, errno_internal.tsv) is never typed in src/ by hand, neither as a declaration
/// (`const int O_CREAT = 0x40`) nor as a number with its name in a comment (`4 /* EINTR */`): code takes it from the
/// files tools/gen-xlat writes (Libc.g.cs, Errnos.g.cs, Cap.g.cs, …). An alias of a generated constant
/// (`O_CREAT = Libc.O_CREAT`) is fine. Read from the source files, so a new hand-typed constant fails without being
/// listed anywhere.
/// </summary>
public class KernelConstantTests
{
    private static readonly Regex ConstDecl = new(@"\bconst\s+(?:int|uint|long|ulong|short|ushort|byte|nint)\s+([^;]*);", RegexOptions.Compiled);
    private static readonly Regex Assignment = new(@"\b([A-Z][A-Z0-9_]+)\s*=\s*(-?0x[0-9A-Fa-f_]+|-?[0-9_]+)\b", RegexOptions.Compiled);

    /// <summary>Every value each name has in the generated tables (a name may sit in several tables).</summary>
    private static Dictionary<string, HashSet<ulong>> TableValues()
    {
        var values = new Dictionary<string, HashSet<ulong>>();
        foreach (var file in new[] { "errno.tsv", "errno_internal.tsv" })
            foreach (var line in File.ReadLines(Path.Combine(LayeringTests.SourceRoot(), "Decoding", "Data", file)))
            {
                var f = line.Split('\t');
                if (line.StartsWith('#') || f.Length < 2 || !ulong.TryParse(f[0], CultureInfo.InvariantCulture, out var nr)) continue;
                if (!values.TryGetValue(f[1], out var set)) values[f[1]] = set = [];
                set.Add(nr);
            }
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

    private static readonly Regex NamedNumber = new(@"(?<![\w.])(-?(?:0x[0-9A-Fa-f]+|[0-9]+))\s*/\*\s*([A-Z][A-Z0-9_]+)\s*\*/", RegexOptions.Compiled);

    /// <summary>The kernel constants <paramref name="source"/> types by hand: declarations and commented numbers.</summary>
    internal static IEnumerable<string> HandTyped(string source, Dictionary<string, HashSet<ulong>> tables)
    {
        // Comment lines may show a value with its name (a doc comment's example of the output).
        source = string.Join('\n', source.Split('\n').Where(l => !l.TrimStart().StartsWith("//")));
        foreach (var (name, value) in Constants(source))
            if (tables.ContainsKey(name))
                yield return $"const {name} = {value}";
        foreach (Match m in NamedNumber.Matches(source))
            if (tables.ContainsKey(m.Groups[2].Value))
                yield return $"{m.Groups[1].Value} /* {m.Groups[2].Value} */";
    }

    private static IEnumerable<string> SourceFiles() =>
        Directory.GetFiles(LayeringTests.SourceRoot(), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") &&
                        !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"));

    [Fact]
    public void NoKernelConstantIsTypedByHand()
    {
        var tables = TableValues();
        Assert.True(tables.Count > 500, "xlat.tsv and the errno tables hold the UAPI names");
        var typed = new List<string>();
        int generated = 0;
        foreach (var file in SourceFiles())
        {
            string text = File.ReadAllText(file);
            if (file.EndsWith(".g.cs"))
            {
                // The generated files are where they belong: the scan must see them (it cannot pass by seeing nothing),
                // and they must hold the tables' values.
                foreach (var (name, value) in Constants(text))
                    if (tables.TryGetValue(name, out var want))
                    {
                        generated++;
                        Assert.True(want.Contains((ulong)value) || want.Contains((ulong)value & 0xffff_ffff), $"{file}: {name} = {value}");
                    }
                continue;
            }
            foreach (var t in HandTyped(text, tables))
                typed.Add($"{Path.GetRelativePath(LayeringTests.SourceRoot(), file)}: {t}");
        }
        Assert.True(typed.Count == 0, "typed by hand (take them from the generated constants; add a CS_FILES line to tools/gen-xlat):\n" + string.Join('\n', typed));
        Assert.True(generated > 200, $"only {generated} generated constants were found in the tables");
    }

    [Fact]
    public void TheCheckSeesHandTypedConstants()
    {
        var tables = TableValues();
        var found = HandTyped("""
            internal const int O_CREAT = 0x40, NOT_A_KERNEL_NAME = 7;
            private const int Alias = Libc.O_WRONLY;
            if (errno == 4 /* EINTR */) return;
            Prctl(4 /* PR_SET_DUMPABLE */, 0);
            x = 3 /* three */;
            /// <c>0x11 /* XFEATURE_XTILE_CFG */</c> in a doc comment is an example, not code
            """, tables).ToList();
        Assert.Equal(["const O_CREAT = 64", "4 /* EINTR */", "4 /* PR_SET_DUMPABLE */"], found);
        Assert.Empty(HandTyped("private const int AT_FDCWD_ALIAS = Libc.AT_FDCWD; const int MaxRows = 10000;", tables));
    }
}
