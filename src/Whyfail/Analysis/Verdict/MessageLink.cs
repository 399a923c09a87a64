using System.Globalization;
using System.Text.RegularExpressions;
using Whyfail.Decoding;

namespace Whyfail.Analysis.Verdict;

/// <summary>
/// How well a message names a failure: its path (whole, or its final name), its network address, its errno as
/// text ("Permission denied"), as a number in the forms programs print ("[Errno 13]", "errno=13", "error 13",
/// "os error 13") or by name ("EACCES"). 0: the message does not name it.
/// </summary>
public static partial class MessageLink
{
    /// <summary>The least score that links a message to a failure (an errno or a path alone is enough).</summary>
    public const int Threshold = 2;

    public static int Score(Tracked t, string line)
    {
        var ev = t.Event;
        var s = t.Subject;
        int score = 0;
        // A path with a directory in it is specific; a bare relative name ("all") is only as good as a final name.
        if (s.Path is { Length: >= 2 } path && path.Contains('/') && line.Contains(path, StringComparison.Ordinal)) score += 4;
        else if (s.Name is { Length: >= 3 } name && line.Contains(name, StringComparison.Ordinal)) score += 1; // with the errno, enough
        if (s.Address is { } addr && line.Contains(addr, StringComparison.Ordinal))
            score += s.Port is { } port && Regex.IsMatch(line, $@"\b{port}\b") ? 4 : 2;
        int e = ev.Errno;
        if (e == 0) return score;
        if (line.Contains(Errno.Message(e), StringComparison.OrdinalIgnoreCase)) score += 2;
        else if (Regex.IsMatch(line, NumberForms(e), RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)) score += 2;
        else if (Errno.Name(e) is { } n && Regex.IsMatch(line, $@"\b{n}\b")) score += 2;
        return score;
    }

    private static string NumberForms(int e)
    {
        string n = e.ToString(CultureInfo.InvariantCulture);
        return $@"\[errno {n}\]|\berrno\s*[=:]?\s*{n}\b|\berror\s*[=:]?\s*{n}\b|\bos error {n}\b";
    }
}
