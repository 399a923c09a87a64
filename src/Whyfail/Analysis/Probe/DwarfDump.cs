using System.Diagnostics;
using System.Text.RegularExpressions;
using Whyfail.Analysis.Origin.Source;

namespace Whyfail.Analysis.Probe;

/// <summary>
/// Reads one function's DWARF out of a (600+ MB) debug vmlinux without scanning it: llvm-dwarfdump
/// --lookup=ADDR finds the compilation unit through .debug_aranges and names the function's DIE, then
/// --debug-info=OFFSET --show-children dumps only that DIE's subtree (and its abstract origin's, when the
/// function is an out-of-line copy of an inline one) and --debug-line=OFFSET only that unit's line table.
/// The texts are cached under /var/cache/whyfail/probe/BUILD-ID/ so the next run reads no DWARF at all.
/// </summary>
public sealed class DwarfDump(string vmlinux, string? buildId, string tool)
{
    public const string CacheRoot = "/var/cache/whyfail/probe";

    /// <summary>What the last <see cref="Function"/> cost and where it came from, for the notice.</summary>
    public string LastSource { get; private set; } = "";

    public static string? FindTool()
    {
        foreach (var name in new[] { "llvm-dwarfdump", "llvm-dwarfdump-19", "llvm-dwarfdump-18", "llvm-dwarfdump-17", "llvm-dwarfdump-16", "llvm-dwarfdump-15", "llvm-dwarfdump-14" })
            if (Symbolizer.FindOnPath(name) is { } p) return p;
        return null;
    }

    private static readonly Regex SubprogramAt = new(@"^(0x[0-9a-f]+):\s+DW_TAG_subprogram", RegexOptions.Multiline | RegexOptions.Compiled);
    private static readonly Regex StmtList = new(@"DW_AT_stmt_list\t\((0x[0-9a-f]+)\)", RegexOptions.Compiled);
    private static readonly Regex AbstractOrigin = new(@"^\s+DW_AT_abstract_origin\t\((0x[0-9a-f]+)", RegexOptions.Multiline | RegexOptions.Compiled);

    /// <summary>The function whose code starts at <paramref name="linkAddress"/> (an address of the vmlinux, not a live one).</summary>
    public DwarfFunction Function(string name, ulong linkAddress)
    {
        var sw = Stopwatch.StartNew();
        string? dir = buildId != null ? Path.Combine(CacheRoot, buildId) : null;
        string key = $"{name}-{linkAddress:x}";
        if (dir != null && TryReadCache(dir, key) is { } cached)
        {
            LastSource = $"cached DWARF of {name} ({Path.Combine(dir, key)}.*)";
            return DwarfFunction.Parse(name, cached.Die, cached.Origin, cached.Line);
        }
        string lookup = Run($"--lookup=0x{linkAddress:x}");
        var sub = SubprogramAt.Match(lookup);
        var stmt = StmtList.Match(lookup);
        if (!sub.Success || !stmt.Success)
            throw new InvalidDataException($"llvm-dwarfdump --lookup=0x{linkAddress:x} found no function DIE or line table for {name} in {vmlinux}");
        string die = Run($"--debug-info={sub.Groups[1].Value}", "--show-children");
        string? origin = null;
        // The root's own abstract origin only: the first DW_AT_abstract_origin before its first child.
        int start = SubprogramAt.Match(die) is { Success: true } r ? r.Index : 0;
        int end = die.IndexOf("\n\n", start, StringComparison.Ordinal);
        string rootText = end > start ? die[start..end] : die[start..];
        if (AbstractOrigin.Match(rootText) is { Success: true } ao)
            origin = Run($"--debug-info={ao.Groups[1].Value}", "--show-children");
        string line = Run($"--debug-line={stmt.Groups[1].Value}");
        var fn = DwarfFunction.Parse(name, die, origin, line);
        LastSource = $"DWARF of {name} read with {Path.GetFileName(tool)} in {sw.ElapsedMilliseconds} ms (one compilation unit's line table, one subtree)";
        if (dir != null) WriteCache(dir, key, die, origin, line);
        return fn;
    }

    private string Run(params string[] args)
    {
        var psi = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add(vmlinux);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {tool}");
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidDataException($"{Path.GetFileName(tool)} {string.Join(' ', args)} failed (status {p.ExitCode}): {err.Result.Trim()}");
        return output;
    }

    private static (string Die, string? Origin, string Line)? TryReadCache(string dir, string key)
    {
        try
        {
            string die = Path.Combine(dir, key + ".die"), line = Path.Combine(dir, key + ".line"), origin = Path.Combine(dir, key + ".origin");
            if (!File.Exists(die) || !File.Exists(line)) return null;
            return (File.ReadAllText(die), File.Exists(origin) ? File.ReadAllText(origin) : null, File.ReadAllText(line));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Each file is written beside and renamed into place; a cache that cannot be written is only a slower next run.</summary>
    private static void WriteCache(string dir, string key, string die, string? origin, string line)
    {
        try
        {
            Directory.CreateDirectory(dir);
            void Put(string ext, string text)
            {
                string target = Path.Combine(dir, key + ext), tmp = target + $".{Environment.ProcessId}.tmp";
                File.WriteAllText(tmp, text);
                File.Move(tmp, target, overwrite: true);
            }
            if (origin != null) Put(".origin", origin);
            Put(".line", line);
            Put(".die", die); // last: its presence says the entry is complete
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
