using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;

namespace Whyfail.Rendering;

/// <summary>
/// The JSON output's escaping: <c>"</c> is written <c>\"</c> (the default encoder writes \u0022); <c>&lt;</c>,
/// <c>&gt;</c>, <c>&amp;</c>, <c>'</c> and <c>+</c> stay escaped as \u00XX as before, so that markup a traced process
/// puts in a name never appears raw where the JSON is embedded in a page; control characters (<c>\n</c>,
/// <c>\t</c>, ESC as <c>\u001B</c>, DEL), and every non-ASCII character are escaped, so the output is
/// pure ASCII and safe to show in a terminal.
/// </summary>
public sealed class JsonEscaping : JavaScriptEncoder
{
    public static readonly JsonEscaping Instance = new();

    private JsonEscaping() { }

    public override int MaxOutputCharactersPerInputCharacter => 12; // a surrogate pair: \uD83D\uDE00

    public override bool WillEncode(int unicodeScalar) =>
        unicodeScalar < 0x20 || unicodeScalar >= 0x7f || unicodeScalar is '"' or '\\' or '<' or '>' or '&' or '\'' or '+';

    /// <summary>What <see cref="WillEncode"/> says no to (printable ASCII but the seven above), for vectorised searches: every string written is checked.</summary>
    private const string Plain = " !#$%()*,-./0123456789:;=?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~";
    private static readonly SearchValues<char> PlainChars = SearchValues.Create(Plain);
    private static readonly SearchValues<byte> PlainBytes = SearchValues.Create(Encoding.ASCII.GetBytes(Plain)); // UTF-8: bytes >= 0x80 are non-ASCII

    public override unsafe int FindFirstCharacterToEncode(char* text, int textLength) =>
        new ReadOnlySpan<char>(text, textLength).IndexOfAnyExcept(PlainChars);

    public override int FindFirstCharacterToEncodeUtf8(ReadOnlySpan<byte> utf8Text) => utf8Text.IndexOfAnyExcept(PlainBytes);

    public override unsafe bool TryEncodeUnicodeScalar(int unicodeScalar, char* buffer, int bufferLength, out int numberOfCharactersWritten)
    {
        string s = unicodeScalar switch
        {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            '\b' => "\\b",
            '\f' => "\\f",
            < 0x10000 => $"\\u{unicodeScalar:X4}",
            _ => Pair(unicodeScalar),
        };
        numberOfCharactersWritten = 0;
        if (s.Length > bufferLength) return false;
        for (int i = 0; i < s.Length; i++) buffer[i] = s[i];
        numberOfCharactersWritten = s.Length;
        return true;
    }

    private static string Pair(int scalar)
    {
        var r = new Rune(scalar);
        Span<char> two = stackalloc char[2];
        r.EncodeToUtf16(two);
        return $"\\u{(int)two[0]:X4}\\u{(int)two[1]:X4}";
    }
}
