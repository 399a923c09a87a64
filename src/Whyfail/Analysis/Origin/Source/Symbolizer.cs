using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Whyfail.Events;

namespace Whyfail.Analysis.Origin.Source;

/// <summary>Link-time kernel address → source frames, innermost (inlined) first.</summary>
public interface ISymbolizer : IDisposable
{
    /// <summary>The tool behind it, for messages ("llvm-symbolizer-14").</summary>
    string Tool { get; }

    /// <summary>The frames at <paramref name="linkAddress"/> (an address of the vmlinux, not a live one); empty when unknown.</summary>
    IReadOnlyList<SourceFrame> Symbolize(ulong linkAddress);

    /// <summary>
    /// The path the DWARF recorded for a file named as the kernel tree names it ("fs/namei.c" →
    /// "debian/build/build_amd64_none_amd64/fs/namei.c"), once a symbolized frame was in that file; else null.
    /// </summary>
    string? DwarfPath(string kernelPath);

    /// <summary>Why the symbolizer stopped answering (its child died: out of memory, a corrupt file), or null.</summary>
    string? Failure { get; }
}

/// <summary>
/// One long-lived DWARF symbolizer child process for a vmlinux: llvm-symbolizer (JSON output, one
/// line per query) when installed, else binutils addr2line (pretty output, delimited by a sentinel
/// query). Loading the DWARF index once costs ~0.2 s; each later query is fast.
/// Results are cached per address.
/// </summary>
public abstract class Symbolizer : ISymbolizer
{
    /// <summary>Tried in this order on PATH.</summary>
    public static readonly string[] LlvmNames = ["llvm-symbolizer", "llvm-symbolizer-19", "llvm-symbolizer-18", "llvm-symbolizer-17",
        "llvm-symbolizer-16", "llvm-symbolizer-15", "llvm-symbolizer-14"];
    public const string Addr2Line = "addr2line";

    private readonly Process _process;
    private readonly Dictionary<ulong, IReadOnlyList<SourceFrame>> _cache = new();
    private readonly Dictionary<string, string> _dwarfPaths = new(StringComparer.Ordinal);
    private bool _broken;

    protected Symbolizer(string tool, ProcessStartInfo psi)
    {
        Tool = tool;
        psi.RedirectStandardInput = psi.RedirectStandardOutput = psi.RedirectStandardError = true;
        psi.UseShellExecute = false;
        _process = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {tool}");
        _process.ErrorDataReceived += (_, _) => { }; // drain: warnings must not fill the pipe
        _process.BeginErrorReadLine();
    }

    public string Tool { get; }

    /// <summary>Starts the best symbolizer found on PATH for <paramref name="vmlinux"/>, or returns null (with why).</summary>
    public static ISymbolizer? Start(string vmlinux, out string? whyNot)
    {
        whyNot = null;
        foreach (var name in LlvmNames)
            if (FindOnPath(name) is { } path)
                return new LlvmSymbolizer(path, vmlinux);
        if (FindOnPath(Addr2Line) is { } a2l)
            return new Addr2LineSymbolizer(a2l, vmlinux);
        whyNot = "neither llvm-symbolizer nor addr2line is installed (Debian: apt-get install llvm, or binutils)";
        return null;
    }

    public static string? FindOnPath(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string p = Path.Combine(dir, name);
            if (File.Exists(p)) return p;
        }
        return null;
    }

    public IReadOnlyList<SourceFrame> Symbolize(ulong linkAddress)
    {
        if (_cache.TryGetValue(linkAddress, out var known)) return known;
        IReadOnlyList<SourceFrame> frames = [];
        if (!_broken)
        {
            try
            {
                frames = Query(linkAddress, _process.StandardInput, _process.StandardOutput);
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or JsonException)
            {
                _broken = true; // the child died or spoke nonsense: no more source lines, origins stay
                Failure = Describe(e);
            }
        }
        _cache[linkAddress] = frames;
        return frames;
    }

    public string? Failure { get; private set; }

    /// <summary>The child's pid (for tests that kill it).</summary>
    internal int ChildPid => _process.Id;

    private string Describe(Exception e)
    {
        try
        {
            if (_process.WaitForExit(1000))
            {
                int code = _process.ExitCode;
                return code > 128
                    ? $"{Tool} was killed by signal {code - 128}{(code - 128 == 9 ? " (out of memory? the debug vmlinux's DWARF takes hundreds of MB)" : "")}"
                    : $"{Tool} exited with status {code}";
            }
        }
        catch (InvalidOperationException)
        {
        }
        return $"{Tool} stopped answering ({e.Message})";
    }

    protected abstract IReadOnlyList<SourceFrame> Query(ulong address, StreamWriter input, StreamReader output);

    public string? DwarfPath(string kernelPath) => _dwarfPaths.GetValueOrDefault(kernelPath);

    /// <summary>Frames from innermost to outermost: every frame but the last was inlined into the next.</summary>
    protected IReadOnlyList<SourceFrame> Frames(List<(string Function, string File, int Line)> raw)
    {
        var list = new List<SourceFrame>(raw.Count);
        for (int i = 0; i < raw.Count; i++)
        {
            if (raw[i].Line <= 0 || raw[i].File is "" or "??") continue;
            string file = KernelPaths.Relative(raw[i].File);
            // The same file may be named with or without its compilation directory (DWARF 5 line tables name
            // the primary file both ways): keep the fullest name, the one a debuginfod server indexed.
            if (!_dwarfPaths.TryGetValue(file, out var seen) || seen.Length < raw[i].File.Length) _dwarfPaths[file] = raw[i].File;
            list.Add(new SourceFrame(raw[i].Function, file, raw[i].Line, i < raw.Count - 1));
        }
        return list;
    }

    public void Dispose()
    {
        try
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(2000)) _process.Kill();
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
        }
        _process.Dispose();
    }
}

/// <summary>llvm-symbolizer --output-style=JSON: one JSON object per query line.</summary>
internal sealed class LlvmSymbolizer(string path, string vmlinux) : Symbolizer(Path.GetFileName(path), new ProcessStartInfo(path)
{
    // Full names (compilation directory included): KernelPaths.Relative names files as the tree does, and
    // debuginfod wants the names the DWARF recorded.
    ArgumentList = { "--obj=" + vmlinux, "--inlining", "--output-style=JSON" },
})
{
    protected override IReadOnlyList<SourceFrame> Query(ulong address, StreamWriter input, StreamReader output)
    {
        input.Write($"0x{address:x}\n");
        input.Flush();
        string line = output.ReadLine() ?? throw new IOException("llvm-symbolizer exited");
        using var doc = JsonDocument.Parse(line);
        var raw = new List<(string, string, int)>();
        if (doc.RootElement.TryGetProperty("Symbol", out var syms) && syms.ValueKind == JsonValueKind.Array)
            foreach (var s in syms.EnumerateArray())
                raw.Add((s.GetProperty("FunctionName").GetString() ?? "", s.GetProperty("FileName").GetString() ?? "", s.GetProperty("Line").GetInt32()));
        return Frames(raw);
    }
}

/// <summary>
/// addr2line -f -i -p -a: "0xADDR: func at file:line", then " (inlined by) func at file:line" lines.
/// The end of an answer is the echo of a sentinel query (address 1) sent after each address.
/// </summary>
internal sealed class Addr2LineSymbolizer(string path, string vmlinux) : Symbolizer("addr2line", new ProcessStartInfo(path)
{
    ArgumentList = { "-e", vmlinux, "-f", "-i", "-p", "-a" },
})
{
    private const string Sentinel = "0x0000000000000001";

    protected override IReadOnlyList<SourceFrame> Query(ulong address, StreamWriter input, StreamReader output)
    {
        input.Write($"0x{address:x}\n{Sentinel}\n");
        input.Flush();
        var raw = new List<(string, string, int)>();
        string prefix = $"0x{address:x16}: ";
        string? line;
        // Skip what is left of the previous sentinel's answer.
        while ((line = output.ReadLine()) != null && !line.StartsWith(prefix, StringComparison.Ordinal)) { }
        if (line == null) throw new IOException("addr2line exited");
        Add(raw, line[prefix.Length..]);
        while ((line = output.ReadLine()) != null && !line.StartsWith(Sentinel + ":", StringComparison.Ordinal))
            if (line.StartsWith(" (inlined by) ", StringComparison.Ordinal)) Add(raw, line[" (inlined by) ".Length..]);
        return Frames(raw);
    }

    private static void Add(List<(string, string, int)> raw, string text)
    {
        // "func at file:line" or "func at file:line (discriminator N)"
        int at = text.IndexOf(" at ", StringComparison.Ordinal);
        if (at < 0) return;
        string where = text[(at + 4)..];
        int paren = where.IndexOf(" (", StringComparison.Ordinal);
        if (paren >= 0) where = where[..paren];
        int colon = where.LastIndexOf(':');
        if (colon < 0 || !int.TryParse(where[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int ln)) return;
        raw.Add((text[..at], where[..colon], ln));
    }
}
