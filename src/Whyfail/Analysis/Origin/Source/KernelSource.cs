namespace Whyfail.Analysis.Origin.Source;

/// <summary>
/// A kernel source tree (--kernel-src DIR, or the files of the distribution's linux-source package
/// that were extracted for this kernel): lines of files by their tree path ("fs/namei.c").
/// Paths come from DWARF; only relative paths without ".." are opened, under the root.
/// </summary>
public sealed class KernelSource(string root)
{
    private readonly Dictionary<string, string[]?> _files = new(StringComparer.Ordinal);

    public string Root { get; } = Path.GetFullPath(root);

    /// <summary>Lines above and below the error line in a snippet.</summary>
    public const int Context = 3;

    /// <summary>Line <paramref name="line"/> (1-based) of <paramref name="file"/>, or null.</summary>
    public string? Line(string file, int line) =>
        Lines(file) is { } lines && line >= 1 && line <= lines.Length ? lines[line - 1] : null;

    /// <summary>±<see cref="Context"/> lines around <paramref name="line"/>, or null when the file is not there.</summary>
    public Events.SourceSnippet? Snippet(string file, int line)
    {
        if (Lines(file) is not { } lines || line < 1 || line > lines.Length) return null;
        int first = Math.Max(1, line - Context), last = Math.Min(lines.Length, line + Context);
        return new Events.SourceSnippet(file, first, line, lines[(first - 1)..last]);
    }

    private string[]? Lines(string file)
    {
        if (_files.TryGetValue(file, out var cached)) return cached;
        string[]? lines = null;
        if (!Path.IsPathRooted(file) && !file.Split('/').Contains(".."))
        {
            try
            {
                lines = File.ReadAllLines(Path.Combine(Root, file));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        _files[file] = lines;
        return lines;
    }
}
