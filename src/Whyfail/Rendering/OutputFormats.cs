namespace Whyfail.Rendering;

/// <summary>How the text format looks: colour, process names on each line, routine failures one by one.</summary>
public sealed record TextLook(bool Color, bool ShowComm, bool ShowRoutine);

/// <summary>
/// The trace's output formats, by the name <c>--format</c> takes. A new format is one renderer file and one entry
/// here; the session only knows <see cref="IRenderer"/>.
/// </summary>
public static class OutputFormats
{
    public const string Text = "text";
    public const string Json = "json";

    /// <summary>Every format's name and a one-line description, for --help and validation.</summary>
    public static IReadOnlyList<(string Name, string About)> All { get; } =
    [
        (Text, "lines for people, strace-style calls with their explanations (the default)"),
        (Json, "JSON Lines: one object per event, then a summary (docs/json.md)"),
    ];

    public static bool IsKnown(string name) => All.Any(f => f.Name == name);

    /// <summary>The renderer of <paramref name="format"/> writing to <paramref name="output"/>.</summary>
    /// <param name="unbuffered">Text is written as it comes (standard error: notices and progress lines stay in order).</param>
    public static IRenderer Create(string format, Stream output, bool unbuffered, TextLook look) => format switch
    {
        Json => new JsonRenderer(output),
        Text => new TextRenderer(new StreamWriter(output) { AutoFlush = unbuffered }, look.Color, look.ShowComm, look.ShowRoutine),
        _ => throw new ArgumentException($"unknown output format '{format}' (known: {string.Join(", ", All.Select(f => f.Name))})", nameof(format)),
    };
}
