using System.Text;
using System.Text.RegularExpressions;
using Whyfail.Capture.Deny;
using Xunit;

namespace Whyfail.Tests.Deny;

/// <summary>
/// The deny rules' glob automaton (Capture/Deny/Glob.cs), whose <see cref="Glob.Step"/> is the C# twin of
/// wfd_glob_match in bpf/deny.bpf.c: the documented semantics case by case, then against a regular expression
/// written from the same documentation on many random strings.
/// </summary>
public class GlobTests
{
    [Theory]
    [InlineData("*.exe", "virus.exe", true)]
    [InlineData("*.exe", ".exe", true)]
    [InlineData("*.exe", "virus.exe.txt", false)]
    [InlineData("*.exe", "a/b.exe", false)]            // * stops at '/'
    [InlineData("/tmp/*", "/tmp/x", true)]
    [InlineData("/tmp/*", "/tmp/", true)]               // * may match nothing
    [InlineData("/tmp/*", "/tmp/a/b", false)]
    [InlineData("/tmp/**", "/tmp/a/b/c", true)]         // ** crosses '/'
    [InlineData("/tmp/**", "/tmpx", false)]
    [InlineData("/home/**/.ssh/*", "/home/.ssh/id", true)] // "/**/" may match a single '/'
    [InlineData("/home/**/.ssh/*", "/home/u/.ssh/id", true)]
    [InlineData("/home/**/.ssh/*", "/home/u/v/.ssh/id", true)]
    [InlineData("/home/**/.ssh/*", "/home/u.ssh/id", false)]
    [InlineData("/a/**/**/b", "/a/b", true)]            // "/**/**/" means "/**/"
    [InlineData("/a/**/**/b", "/a/x/y/b", true)]
    [InlineData("**/id_rsa", "/root/.ssh/id_rsa", true)]
    [InlineData("**/id_rsa", "/root/.ssh/id_rsa.pub", false)]
    [InlineData("file?.txt", "file1.txt", true)]
    [InlineData("file?.txt", "file.txt", false)]
    [InlineData("/x?y", "/x/y", false)]                 // ? is not '/'
    [InlineData(@"\*.txt", "*.txt", true)]              // an escaped star is a star
    [InlineData(@"\*.txt", "a.txt", false)]
    [InlineData(@"a\?", "a?", true)]
    [InlineData(@"a\?", "ab", false)]
    [InlineData(@"a\\b", @"a\b", true)]
    [InlineData("***.c", "/x/y.c", true)]               // a run of three stars is a globstar
    [InlineData("*a*b*", "xxaxxbxx", true)]
    [InlineData("*a*b*", "xxbxxaxx", false)]
    [InlineData("café*", "café-au-lait", true)]         // bytes of UTF-8
    [InlineData("/etc/shadow", "/etc/shadow", true)]
    [InlineData("/etc/shadow", "/etc/shadow-", false)]
    public void Documented_semantics(string pattern, string s, bool matches) =>
        Assert.Equal(matches, Glob.Compile(pattern).Match(s));

    [Fact]
    public void Tokens_are_limited_to_the_bits_of_the_state()
    {
        Assert.Equal(63, Glob.Compile(new string('a', 63)).Tokens);
        Assert.True(Glob.Compile(new string('a', 63)).Match(new string('a', 63)));
        Assert.False(Glob.Compile(new string('a', 63)).Match(new string('a', 62)));
        var e = Assert.Throws<FormatException>(() => Glob.Compile(new string('a', 64)));
        Assert.Contains("at most 63", e.Message);
        Assert.Throws<FormatException>(() => Glob.Compile("abc\\"));
        Assert.Throws<FormatException>(() => Glob.Compile(""));
    }

    [Fact]
    public void The_start_state_already_holds_what_a_leading_star_may_skip()
    {
        var g = Glob.Compile("*x");
        Assert.Equal(0b11UL, g.Start);     // before any byte: nothing matched, or the star matched nothing
        Assert.Equal(1UL << 2, g.Final);
        Assert.True(g.Match("x"));
        Assert.False(g.Match(""));
        Assert.True(Glob.Compile("**").Match(""));
    }

    /// <summary>The same semantics as a regular expression, written independently from the documentation.</summary>
    private static Regex Reference(string pattern)
    {
        while (pattern.Contains("/**/**/")) pattern = pattern.Replace("/**/**/", "/**/"); // documented: the same as "/**/"
        var sb = new StringBuilder("^");
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            if (c == '\\') sb.Append(Regex.Escape(pattern[++i].ToString()));
            else if (c == '?') sb.Append("[^/]");
            else if (c == '*')
            {
                int run = 1;
                while (i + 1 < pattern.Length && pattern[i + 1] == '*') { i++; run++; }
                if (run == 1) sb.Append("[^/]*");
                // "/**/": the globstar and the slash after it may match nothing
                else if (sb.Length > 1 && sb[^1] == '/' && i + 1 < pattern.Length && pattern[i + 1] == '/') { sb.Append("(?:.*/)?"); i++; }
                else sb.Append(".*");
            }
            else sb.Append(Regex.Escape(c.ToString()));
        }
        return new Regex(sb.Append('$').ToString(), RegexOptions.Singleline | RegexOptions.CultureInvariant);
    }

    [Fact]
    public void The_automaton_agrees_with_a_regular_expression_on_random_strings()
    {
        var rng = new Random(20);
        const string alphabet = "ab/.*?";
        string[] patterns = ["*", "**", "a*b", "/a/**/b", "/**/a*", "?b*/**", "a/**", "**/a", "*/*", "a?*b", "/a/**/*.b", "*a*a*a", @"a\*b", "/**/**/b"];
        int checkedStrings = 0;
        foreach (var p in patterns)
        {
            var g = Glob.Compile(p);
            var re = Reference(p);
            for (int k = 0; k < 3000; k++)
            {
                var s = new string(Enumerable.Range(0, rng.Next(0, 9)).Select(_ => alphabet[rng.Next(alphabet.Length)]).ToArray());
                Assert.True(re.IsMatch(s) == g.Match(s), $"pattern {p} on \"{s}\": regex {re.IsMatch(s)}, automaton {g.Match(s)}");
                checkedStrings++;
            }
        }
        Assert.Equal(patterns.Length * 3000, checkedStrings);
    }
}
