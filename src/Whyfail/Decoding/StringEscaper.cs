using System.Buffers;
using System.Globalization;
using System.Text;

namespace Whyfail.Decoding;

/// <summary>
/// Renders bytes taken from a traced process as a C string literal, strace style. The result is meant
/// for terminals, so nothing a traced program controls can reach them raw: every control character
/// (C0, DEL, C1), every invisible formatting character (bidirectional overrides and isolates, zero-width
/// characters, line/paragraph separators), anything unassigned or private, every byte that is not
/// part of valid UTF-8, and a combining mark with no character of the string to attach to (it would
/// deface the opening quote or an escape) comes out as an octal escape. Printable ASCII and printable
/// UTF-8 stay readable.
/// </summary>
public static class StringEscaper
{
    /// <summary>
    /// Quotes <paramref name="data"/>: at most <paramref name="limit"/> bytes are shown; when there were
    /// more, or when <paramref name="truncated"/> says the capture itself was cut, "..." follows the
    /// closing quote.
    /// </summary>
    public static string Quote(ReadOnlySpan<byte> data, int limit, bool truncated)
    {
        if (limit < 0) limit = 0;
        bool more = truncated || data.Length > limit;
        var shown = data.Length > limit ? data[..limit] : data;
        var sb = new StringBuilder(shown.Length + 8);
        sb.Append('"');
        int i = 0;
        // Whether the last thing written is a character of the string itself (not a quote or an escape):
        // only such a character may carry a combining mark, which would otherwise deface the notation.
        bool afterLiteral = false;
        while (i < shown.Length)
        {
            byte b = shown[i];
            if (b < 0x80)
            {
                afterLiteral = AppendAscii(sb, b, i + 1 < shown.Length ? shown[i + 1] : (byte)0);
                i++;
                continue;
            }
            var status = Rune.DecodeFromUtf8(shown[i..], out var rune, out int used);
            if (status == OperationStatus.Done && IsSafe(rune) && (afterLiteral || !IsCombining(rune)))
            {
                sb.Append(rune.ToString());
                afterLiteral = true;
                i += used;
                continue;
            }
            if (status == OperationStatus.NeedMoreData && i + used == shown.Length && shown.Length < data.Length)
            {
                // A character cut by the limit: stop before it rather than show half of it.
                more = true;
                break;
            }
            // Unsafe or invalid: every byte of it as an escape.
            int n = status == OperationStatus.Done ? used : Math.Max(1, used);
            for (int k = 0; k < n && i < shown.Length; k++, i++)
                AppendOctal(sb, shown[i], i + 1 < shown.Length ? shown[i + 1] : (byte)0);
            afterLiteral = false;
        }
        sb.Append('"');
        if (more) sb.Append("...");
        return sb.ToString();
    }

    /// <summary><see cref="Quote(ReadOnlySpan{byte}, int, bool)"/> for a string already in memory (UTF-8 encoded first).</summary>
    public static string Quote(string s, int limit = int.MaxValue) => Quote(Encoding.UTF8.GetBytes(s), limit, false);

    /// <summary>Appends one ASCII byte; true when it went out as itself.</summary>
    private static bool AppendAscii(StringBuilder sb, byte b, byte next)
    {
        switch (b)
        {
            case (byte)'"': sb.Append("\\\""); return false;
            case (byte)'\\': sb.Append("\\\\"); return false;
            case (byte)'\n': sb.Append("\\n"); return false;
            case (byte)'\t': sb.Append("\\t"); return false;
            case (byte)'\r': sb.Append("\\r"); return false;
            case (byte)'\f': sb.Append("\\f"); return false;
            case (byte)'\v': sb.Append("\\v"); return false;
        }
        if (b >= 0x20 && b < 0x7f)
        {
            sb.Append((char)b);
            return true;
        }
        AppendOctal(sb, b, next);
        return false;
    }

    private static bool IsCombining(Rune r) => Rune.GetUnicodeCategory(r) is
        UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark;

    /// <summary>\33, or \033 when an octal digit follows (so that the escape cannot swallow it).</summary>
    private static void AppendOctal(StringBuilder sb, byte b, byte next)
    {
        sb.Append('\\');
        var oct = Convert.ToString(b, 8);
        if (next >= (byte)'0' && next <= (byte)'7') oct = oct.PadLeft(3, '0');
        sb.Append(oct);
    }

    /// <summary>Whether a non-ASCII character may be shown as itself on a terminal.</summary>
    internal static bool IsSafe(Rune r)
    {
        int v = r.Value;
        if (v < 0xa0) return false;                          // C1 controls (and everything below is ASCII)
        if (v >= 0x202a && v <= 0x202e) return false;        // bidi embeddings/overrides
        if (v >= 0x2066 && v <= 0x2069) return false;        // bidi isolates
        switch (CharUnicodeInfo.GetUnicodeCategory(v))
        {
            case UnicodeCategory.Control:
            case UnicodeCategory.Format:                     // LRM/RLM/ALM, zero-width, BOM, tags, ...
            case UnicodeCategory.LineSeparator:
            case UnicodeCategory.ParagraphSeparator:
            case UnicodeCategory.Surrogate:
            case UnicodeCategory.PrivateUse:
            case UnicodeCategory.OtherNotAssigned:
                return false;
        }
        return true;
    }
}
