using System.Reflection;

namespace Whyfail.Decoding;

/// <summary>Reads the tab-separated data files embedded from Decoding/Data (see Whyfail.csproj).</summary>
internal static class DataFile
{
    /// <summary>The lines of an embedded data file, without comments ('#') and blank lines.</summary>
    public static IEnumerable<string> Lines(string resource)
    {
        using var stream = typeof(DataFile).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"embedded data file {resource} is missing");
        using var reader = new StreamReader(stream);
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            if (line.Length == 0 || line[0] == '#') continue;
            yield return line;
        }
    }

    /// <summary>The bytes of an embedded data file, where they lie in whyfail's image (<see cref="EmbeddedResource"/>).</summary>
    public static ReadOnlySpan<byte> Bytes(string resource) => EmbeddedResource.TryGet(resource, out var bytes)
        ? bytes
        : throw new InvalidOperationException($"embedded data file {resource} is missing");

    /// <summary>The rows of an embedded TSV file, split on tabs.</summary>
    public static IEnumerable<string[]> Rows(string resource)
    {
        foreach (var line in Lines(resource))
            yield return line.Split('\t');
    }

    public static ulong ParseHex(string s) =>
        ulong.Parse(s.AsSpan(s.StartsWith("0x", StringComparison.Ordinal) ? 2 : 0), System.Globalization.NumberStyles.HexNumber);
}
