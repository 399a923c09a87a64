using Whyfail.Decoding;
using Xunit;
using Encoding = System.Text.Encoding;

namespace Whyfail.Tests.Decoding;

public class StringEscaperTests
{
    private static string Q(string s, int limit = 1000, bool truncated = false) =>
        StringEscaper.Quote(Encoding.UTF8.GetBytes(s), limit, truncated);

    private static string Q(byte[] b, int limit = 1000, bool truncated = false) => StringEscaper.Quote(b, limit, truncated);

    [Fact]
    public void PrintableAsciiStaysAsIs() => Assert.Equal("\"/etc/passwd ~!@#$%^&*()_+{}|:'<>?\"", Q("/etc/passwd ~!@#$%^&*()_+{}|:'<>?"));

    [Fact]
    public void CEscapes() => Assert.Equal(@"""a\nb\tc\rd\""e\\f\fg\vh""", Q("a\nb\tc\rd\"e\\f\fg\vh"));

    [Fact]
    public void EmptyString() => Assert.Equal("\"\"", Q(""));

    [Fact]
    public void EscapeIsOctal()
    {
        Assert.Equal(@"""\33[31mred\33[0m""", Q("\u001b[31mred\u001b[0m"));
        Assert.Equal(@"""\0""", Q(new byte[] { 0 }));
        Assert.Equal(@"""\177""", Q(new byte[] { 0x7f }));
        Assert.Equal(@"""\1x""", Q(new byte[] { 1, (byte)'x' }));
    }

    [Fact]
    public void OctalEscapeCannotSwallowAFollowingDigit()
    {
        // "\33" followed by '1' would read back as "\331": the escape is widened to three digits.
        Assert.Equal(@"""\0331""", Q(new byte[] { 0x1b, (byte)'1' }));
        Assert.Equal(@"""\0007""", Q(new byte[] { 0, (byte)'7' }));
        Assert.Equal(@"""\08""", Q(new byte[] { 0, (byte)'8' }));  // 8 is not an octal digit
    }

    [Theory]
    [InlineData("\u001b]0;pwned\u0007")]            // OSC: set window title, BEL-terminated
    [InlineData("\u001b]52;c;ZXZpbA==\u001b\\")]     // OSC 52: write the clipboard
    [InlineData("\u001bP+q\u001b\\")]                 // DCS
    [InlineData("\u009b31m")]                          // 8-bit CSI as UTF-8 (U+009B)
    [InlineData("\u0085next line")]                    // NEL (C1)
    [InlineData("abc\u202Etxt.exe")]                   // RIGHT-TO-LEFT OVERRIDE
    [InlineData("\u202A\u202B\u202C\u202D")]           // other embeddings/overrides
    [InlineData("\u2066\u2067\u2068\u2069")]           // isolates
    [InlineData("\u200F\u200E\u061C")]                 // RLM, LRM, ALM
    [InlineData("zero\u200Bwidth\u2060joiner\uFEFF")]  // invisible format characters
    [InlineData("line\u2028para\u2029")]              // line/paragraph separators
    [InlineData("\uE000private")]                      // private use
    public void NoControlOrInvisibleCharacterGetsThrough(string hostile)
    {
        var q = Q(hostile);
        foreach (var ch in q)
            Assert.True(ch >= 0x20 && ch < 0x7f || ch > 0x9f && char.GetUnicodeCategory(ch) is not
                (System.Globalization.UnicodeCategory.Format or System.Globalization.UnicodeCategory.Control),
                $"raw U+{(int)ch:X4} in {q}");
        Assert.DoesNotContain('\u001b', q);
    }

    [Fact]
    public void C1AndBidiAreEscapedBytewise()
    {
        Assert.Equal(@"""\302\233""", Q("\u009b"));
        Assert.Equal(@"""abc\342\200\256txt""", Q("abc\u202Etxt"));
        Assert.Equal(@"""\342\201\246""", Q("\u2066"));
    }

    [Fact]
    public void PrintableUtf8StaysReadable()
    {
        Assert.Equal("\"/home/jürgen/файл/日本語/😀\"", Q("/home/jürgen/файл/日本語/😀"));
        Assert.Equal("\"a\u00a0b\"", Q("a\u00a0b")); // NBSP is a visible space
    }

    [Fact]
    public void CombiningMarksOnlyOnCharactersOfTheString()
    {
        Assert.Equal("\"e\u0301\"", Q("e\u0301"));                 // e + COMBINING ACUTE stays
        Assert.Equal(@"""\314\201e""", Q("\u0301e"));               // would sit on the opening quote
        Assert.Equal(@"""\n\314\270""", Q("\n\u0338"));             // would deface the escape
    }

    [Fact]
    public void InvalidUtf8IsOctal()
    {
        Assert.Equal(@"""\377\376""", Q(new byte[] { 0xff, 0xfe }));
        Assert.Equal(@"""a\303""", Q(new byte[] { (byte)'a', 0xc3 }));                    // truncated sequence
        Assert.Equal(@"""\300\257""", Q(new byte[] { 0xc0, 0xaf }));                      // overlong '/'
        Assert.Equal(@"""\355\240\200""", Q(new byte[] { 0xed, 0xa0, 0x80 }));            // UTF-16 surrogate
        Assert.Equal(@"""\200x""", Q(new byte[] { 0x80, (byte)'x' }));                    // lone continuation
        Assert.Equal(@"""\364\220\200\200""", Q(new byte[] { 0xf4, 0x90, 0x80, 0x80 }));  // > U+10FFFF
    }

    [Fact]
    public void LimitAndTruncation()
    {
        Assert.Equal("\"abcd\"...", Q("abcdefgh", limit: 4));
        Assert.Equal("\"abcdefgh\"", Q("abcdefgh", limit: 8));
        Assert.Equal("\"abcdefgh\"...", Q("abcdefgh", limit: 8, truncated: true));
        Assert.Equal("\"\"...", Q("abc", limit: 0));
        Assert.Equal("\"\"...", Q("abc", limit: -5));
    }

    [Fact]
    public void LimitCountsBytesAndNeverSplitsACharacter()
    {
        // "é" is two bytes; a limit that falls inside it stops before it.
        Assert.Equal("\"ab\"...", Q("abé", limit: 3));
        Assert.Equal("\"abé\"...", Q("abéz", limit: 4));
        // An escape sequence cut by the limit is still fully escaped.
        Assert.Equal(@"""\33[""...", Q("\u001b[31m", limit: 2));
    }

    [Fact]
    public void RandomBytesNeverProduceRawControls()
    {
        var rng = new Random(1234);
        for (int n = 0; n < 2000; n++)
        {
            var b = new byte[rng.Next(0, 64)];
            rng.NextBytes(b);
            var q = Q(b, limit: rng.Next(0, 80), truncated: rng.Next(2) == 0);
            Assert.Equal('"', q[0]);
            foreach (var ch in q)
            {
                Assert.False(ch < 0x20 || ch is >= '\u007f' and <= '\u009f', $"raw control U+{(int)ch:X4}");
                Assert.False(ch is >= '\u202a' and <= '\u202e' or >= '\u2066' and <= '\u2069', "raw bidi control");
            }
        }
    }
}
