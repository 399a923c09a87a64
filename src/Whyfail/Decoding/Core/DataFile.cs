namespace Whyfail.Decoding;

/// <summary>Reads the tab-separated data files embedded from Decoding/Data (see Whyfail.csproj).</summary>
internal static class DataFile
{
    /// <summary>The lines of an embedded data file, without comments ('#') and blank lines; slices of <see cref="Bytes"/>.</summary>
    public static ByteLines Lines(string resource) => new(Bytes(resource), comments: true);

    /// <summary>The bytes of an embedded data file, where they lie in whyfail's image (<see cref="EmbeddedResource"/>).</summary>
    public static ReadOnlySpan<byte> Bytes(string resource) => EmbeddedResource.TryGet(resource, out var bytes)
        ? bytes
        : throw new InvalidOperationException($"embedded data file {resource} is missing");

    /// <summary>The rows of an embedded TSV file, split on tabs.</summary>
    public static List<string[]> Rows(string resource)
    {
        var rows = new List<string[]>();
        foreach (var line in Lines(resource)) rows.Add(System.Text.Encoding.UTF8.GetString(line).Split('\t'));
        return rows;
    }

    public static ulong ParseHex(string s) =>
        ulong.Parse(s.AsSpan(s.StartsWith("0x", StringComparison.Ordinal) ? 2 : 0), System.Globalization.NumberStyles.HexNumber);
}
