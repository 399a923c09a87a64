namespace Whyfail.Analysis.Origin.Kernel;

/// <summary>
/// The functions ftrace can attach to (and so fexit/kretprobe can): the names in
/// available_filter_functions, module suffixes (" [mod]") stripped.
/// </summary>
public sealed class TraceableFunctions
{
    public static readonly IReadOnlyList<string> DefaultPaths = Capture.Tracefs.InEachRoot("available_filter_functions").ToList();

    private readonly HashSet<string> _names;

    public TraceableFunctions(IEnumerable<string> names, string source = "names")
    {
        _names = new HashSet<string>(names, StringComparer.Ordinal);
        Source = source;
    }

    public string Source { get; }
    public int Count => _names.Count;
    public bool Contains(string name) => _names.Contains(name);
    public IReadOnlySet<string> Names => _names;

    /// <summary>Reads the first readable default path (tracefs, then debugfs).</summary>
    public static TraceableFunctions Load()
    {
        var why = new List<string>();
        foreach (var path in DefaultPaths)
        {
            if (!File.Exists(path)) continue;
            try
            {
                return Load(path);
            }
            catch (KernelAnalysisException e)
            {
                why.Add(e.Message);
            }
        }
        if (why.Count == 0)
            why.Add($"{DefaultPaths[0]} is missing (tracefs is not mounted: {Capture.Tracefs.MountHint})");
        throw new KernelAnalysisException("the list of traceable kernel functions is not readable: " + string.Join("; ", why));
    }

    public static TraceableFunctions Load(string path)
    {
        try
        {
            using var reader = new StreamReader(path);
            return Parse(reader, path);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new KernelAnalysisException($"{path}: permission denied (kernel lockdown refuses it, or not root)", e);
        }
        catch (IOException e)
        {
            throw new KernelAnalysisException($"{path} is not readable: {e.Message}", e);
        }
    }

    /// <summary>Parses lines "name" or "name [module]" (6.5+ kernels may also prefix an address in the _addrs variant).</summary>
    public static TraceableFunctions Parse(TextReader reader, string source = "available_filter_functions")
    {
        var names = new HashSet<string>(1 << 16, StringComparer.Ordinal);
        string? line;
        while ((line = reader.ReadLine()) != null)
        {
            var span = line.AsSpan().Trim();
            if (span.IsEmpty || span[0] == '#') continue;
            int sp = span.IndexOfAny(' ', '\t');
            if (sp > 0 && IsHex(span[..sp]) && sp + 1 < span.Length && span[(sp + 1)..].TrimStart()[0] != '[')
            {
                // available_filter_functions_addrs: "ADDRESS name [mod]"
                span = span[(sp + 1)..].TrimStart();
                sp = span.IndexOfAny(' ', '\t');
            }
            if (sp > 0) span = span[..sp];
            names.Add(span.ToString());
        }
        return new TraceableFunctions(names, source);
    }

    private static bool IsHex(ReadOnlySpan<char> s)
    {
        if (s.Length < 8) return false;
        foreach (char c in s) if (!char.IsAsciiHexDigit(c)) return false;
        return true;
    }
}
