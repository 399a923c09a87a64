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

    public static int Score(Tracked t, string line, ProcessTrack? process = null)
    {
        var ev = t.Event;
        var s = t.Subject;
        int score = 0;
        // A path with a directory in it is specific; a bare relative name ("all") is only as good as a final name.
        if (s.Path is { Length: >= 2 } path && path.Contains('/') && line.Contains(path, StringComparison.Ordinal)) score += 4;
        else if (s.Name is { Length: >= 3 } name && line.Contains(name, StringComparison.Ordinal))
            // With the errno, enough. Alone, enough too when the process looked for the name in several places and never
            // found it, and the message has it as a word of its own: git's "not a git repository (or any of the parent
            // directories): .git" after .git was missing from the directory and each parent.
            score += process != null && UnfoundSearch(process, name) && AsWord(line, name) ? 2 : 1;
        if (s.Address is { } addr && line.Contains(addr, StringComparison.Ordinal))
            score += s.Port is { } port && Regex.IsMatch(line, $@"\b{port}\b") ? 4 : 2;
        int e = ev.Errno;
        if (e == 0) return score;
        if (line.Contains(Errno.Message(e), StringComparison.OrdinalIgnoreCase)) score += 2;
        else if (Regex.IsMatch(line, NumberForms(e), RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)) score += 2;
        else if (Errno.Name(e) is { } n && Regex.IsMatch(line, $@"\b{n}\b")) score += 2;
        return score;
    }

    /// <summary>The name failed in two or more places of this process and no call of it found it anywhere.</summary>
    private static bool UnfoundSearch(ProcessTrack p, string name) =>
        p.NamePlaces.TryGetValue(name, out var places) && places.Count >= 2 && !p.FoundNames.ContainsKey(name);

    /// <summary><paramref name="name"/> occurs in <paramref name="line"/> not as a piece of a longer name or path.</summary>
    private static bool AsWord(string line, string name)
    {
        static bool NameChar(char c) => char.IsLetterOrDigit(c) || c is '_' or '-' or '.' or '/';
        for (int i = line.IndexOf(name, StringComparison.Ordinal); i >= 0; i = line.IndexOf(name, i + 1, StringComparison.Ordinal))
        {
            int end = i + name.Length;
            bool before = i == 0 || !NameChar(line[i - 1]);
            // a sentence's full stop after the name is not part of it
            bool after = end == line.Length || !NameChar(line[end]) || (line[end] == '.' && (end + 1 == line.Length || char.IsWhiteSpace(line[end + 1])));
            if (before && after) return true;
        }
        return false;
    }

    private static string NumberForms(int e)
    {
        string n = e.ToString(CultureInfo.InvariantCulture);
        return $@"\[errno {n}\]|\berrno\s*[=:]?\s*{n}\b|\berror\s*[=:]?\s*{n}\b|\bos error {n}\b";
    }
}
