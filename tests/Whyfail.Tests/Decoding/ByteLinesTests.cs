using System.Text;
using Whyfail.Decoding;
using Xunit;

namespace Whyfail.Tests.Decoding;

/// <summary>The one line enumerator over embedded tables and cache files, and the one reader of embedded resources.</summary>
public class ByteLinesTests
{
    /// <summary>"offset:line" for each line, joined with '|'.</summary>
    private static string Read(string text, bool comments)
    {
        var got = new List<string>();
        var lines = new ByteLines(Encoding.ASCII.GetBytes(text), comments);
        while (lines.MoveNext()) got.Add($"{lines.Offset}:{Encoding.ASCII.GetString(lines.Current)}");
        return string.Join('|', got);
    }

    [Fact]
    public void LinesEndAtNewlineOrCarriageReturnAndEmptyOnesAreSkipped()
    {
        Assert.Equal("0:a 1|4:b 2|9:c|12:d", Read("a 1\nb 2\r\nc\r\rd", comments: false));
        Assert.Equal("0:# x|4:y", Read("# x\ny\n", comments: false));
        Assert.Equal("", Read("", comments: true));
        Assert.Equal("", Read("\n\r\n", comments: true));
    }

    [Fact]
    public void CommentsAreSkippedWhenAsked()
    {
        Assert.Equal("8:row\tone|23:last", Read("# head\n\nrow\tone\n#tail\n\nlast", comments: true));
    }

    [Fact]
    public void TheBtfIdCacheFindsALineAsFileReadLinesWouldSplitIt()
    {
        var file = Encoding.ASCII.GetBytes("6:foo 12\r\n6:bar 7\n6:bad x\n6:two 1 2\n6:last 3");
        Assert.Equal(12, Whyfail.Capture.BtfIdCache.Find(file, "6:foo"u8));
        Assert.Equal(7, Whyfail.Capture.BtfIdCache.Find(file, "6:bar"u8));
        Assert.Null(Whyfail.Capture.BtfIdCache.Find(file, "6:bad"u8));
        Assert.Null(Whyfail.Capture.BtfIdCache.Find(file, "6:two"u8));
        Assert.Equal(3, Whyfail.Capture.BtfIdCache.Find(file, "6:last"u8));
        Assert.Null(Whyfail.Capture.BtfIdCache.Find(file, "6:none"u8));
    }

    [Fact]
    public void AnEmbeddedResourceIsReadOnceAsTheStreamHoldsIt()
    {
        using var s = typeof(Whyfail.Decoding.Decoder).Assembly.GetManifestResourceStream("xlat.tsv")!;
        var expected = new byte[s.Length];
        s.ReadExactly(expected);
        Assert.True(EmbeddedResource.TryGet("xlat.tsv", out var bytes));
        Assert.True(bytes.SequenceEqual(expected));
        // Where it lies stays put: Xlat keeps the address for the tables it reads later.
        Assert.Equal(EmbeddedResource.Address(bytes), EmbeddedResource.Address(EmbeddedResource.Get("xlat.tsv")));
        Assert.False(EmbeddedResource.TryGet("no-such-resource", out _));
        Assert.Throws<InvalidOperationException>(() => EmbeddedResource.Get("no-such-resource").Length);
        Assert.Equal(DataFile.Rows("errno.tsv").Count, CountLines(DataFile.Lines("errno.tsv")));
    }

    private static int CountLines(ByteLines lines)
    {
        int n = 0;
        while (lines.MoveNext()) n++;
        return n;
    }
}
