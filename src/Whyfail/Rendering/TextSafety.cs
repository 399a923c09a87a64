using System.Globalization;
using System.Text;

namespace Whyfail.Rendering;

/// <summary>
/// Last line of defence for text output: explanation and evidence sentences quote paths and names
/// taken from traced processes, so every control character (C0, DEL, C1), bidi override and other
/// format character is shown as an escape, never sent to the terminal.
/// </summary>
public static class TextSafety
{
    public static string Sanitize(string s)
    {
        int i = 0;
        while (i < s.Length && !Unsafe(s, i)) i++;
        if (i == s.Length) return s;
        var sb = new StringBuilder(s.Length + 16).Append(s, 0, i);
        for (; i < s.Length; i++)
        {
            char c = s[i];
            if (!Unsafe(s, i)) { sb.Append(c); continue; }
            switch (c)
            {
                case '\n': sb.Append(@"\n"); break;
                case '\t': sb.Append(@"\t"); break;
                case '\r': sb.Append(@"\r"); break;
                default:
                    if (c < 0x80) sb.Append('\\').Append(Convert.ToString(c, 8));
                    else sb.Append(@"\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    break;
            }
        }
        return sb.ToString();
    }

    private static bool Unsafe(string s, int i)
    {
        char c = s[i];
        if (c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f)) return true;
        if (char.IsSurrogate(c)) return false;
        var cat = char.GetUnicodeCategory(c);
        return cat is UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
            or UnicodeCategory.Control or UnicodeCategory.PrivateUse;
    }
}
