using System.Globalization;
using System.Text.RegularExpressions;
using Whyfail.Analysis.Origin.Source;

namespace Whyfail.Analysis.Probe;

/// <summary>One entry of a variable's location: the DWARF expression valid for link addresses [Low, High).</summary>
public sealed record DwarfLocation(ulong Low, ulong High, string Expression)
{
    public bool Covers(ulong address) => address >= Low && address < High;
}

/// <summary>A parameter or local variable of a function, as the DWARF describes it.</summary>
/// <param name="Scope">The lexical block's address ranges; empty for the function's own parameters and variables.</param>
public sealed record DwarfVariable(string Name, string TypeName, bool IsParameter, IReadOnlyList<DwarfLocation> Locations,
    IReadOnlyList<(ulong Low, ulong High)> Scope)
{
    public bool InScope(ulong address) => Scope.Count == 0 || Scope.Any(r => address >= r.Low && address < r.High);

    public DwarfLocation? At(ulong address) => Locations.FirstOrDefault(l => l.Covers(address));
}

/// <summary>A source line probe: one instruction address where one or more lines of the function's own file begin.</summary>
public sealed record DwarfLineProbe(ulong Address, IReadOnlyList<int> Lines);

/// <summary>
/// What `whyfail probe --lines` needs of one kernel function: its file, address range, parameters and
/// locals with their locations, and the line table rows of its own file, in address order. Parsed from
/// llvm-dwarfdump's text of that function's DIE subtree and of its compilation unit's line table only.
/// </summary>
public sealed class DwarfFunction
{
    public required string Name { get; init; }
    /// <summary>The function's source file as the kernel tree names it ("kernel/events/core.c").</summary>
    public required string File { get; init; }
    public required IReadOnlyList<(ulong Low, ulong High)> Ranges { get; init; }
    /// <summary>DW_AT_frame_base is DW_OP_call_frame_cfa (gcc's): DW_OP_fbreg offsets are from the CFA.</summary>
    public bool FrameBaseIsCfa { get; init; }
    public required IReadOnlyList<DwarfVariable> Variables { get; init; }
    public required IReadOnlyList<DwarfLineProbe> LineProbes { get; init; }

    public bool Contains(ulong address) => Ranges.Any(r => address >= r.Low && address < r.High);

    private static readonly Regex DieHead = new(@"^0x([0-9a-f]+):( +)(DW_TAG_\w+|NULL)", RegexOptions.Compiled);
    private static readonly Regex AttrHead = new(@"^\s+(DW_AT_\w+)\t\((.*)$", RegexOptions.Compiled);
    private static readonly Regex Range = new(@"\[0x([0-9a-f]+), 0x([0-9a-f]+)\)(?:: (.*))?", RegexOptions.Compiled);
    private static readonly Regex Quoted = new("\"((?:[^\"\\\\]|\\\\.)*)\"", RegexOptions.Compiled);

    /// <summary>One DIE of llvm-dwarfdump's text: offset, tag, depth below the dumped root, attributes (raw text).</summary>
    internal sealed record Die(ulong Offset, string Tag, int Depth, Dictionary<string, string> Attrs);

    /// <summary>Parses the DIEs of `llvm-dwarfdump --debug-info=OFFSET --show-children` (or --lookup) output.</summary>
    internal static List<Die> ParseDies(string text)
    {
        var dies = new List<Die>();
        Die? current = null;
        string? attr = null;
        var value = new System.Text.StringBuilder();
        int rootSpaces = -1;
        void Flush()
        {
            if (current != null && attr != null)
            {
                string v = value.ToString().TrimEnd();
                if (v.EndsWith(')')) v = v[..^1];
                current.Attrs[attr] = v;
            }
            attr = null;
            value.Clear();
        }
        foreach (var line in text.Split('\n'))
        {
            var head = DieHead.Match(line);
            if (head.Success)
            {
                Flush();
                int spaces = head.Groups[2].Length;
                if (rootSpaces < 0) rootSpaces = spaces;
                current = null;
                if (head.Groups[3].Value == "NULL") continue;
                current = new Die(ulong.Parse(head.Groups[1].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture), head.Groups[3].Value,
                    Math.Max(0, (spaces - rootSpaces) / 2), new Dictionary<string, string>(StringComparer.Ordinal));
                dies.Add(current);
                continue;
            }
            var a = AttrHead.Match(line);
            if (a.Success && current != null)
            {
                Flush();
                attr = a.Groups[1].Value;
                value.Append(a.Groups[2].Value);
                continue;
            }
            if (attr != null && line.Length > 0 && char.IsWhiteSpace(line[0]) && line.TrimStart().StartsWith('['))
                value.Append('\n').Append(line.Trim());
            else
                Flush();
        }
        Flush();
        return dies;
    }

    internal static ulong Hex(string s) => ulong.Parse(s.StartsWith("0x") ? s[2..] : s, NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    /// <summary>The quoted string of an attribute value ("perf_copy_attr", the type's name after a reference).</summary>
    internal static string? QuotedOf(string? v) => v == null ? null : Quoted.Match(v) is { Success: true } m ? m.Groups[1].Value : null;

    /// <summary>The DIE offset an attribute refers to: "0x000000cc \"a\"" → 0xcc.</summary>
    internal static ulong? RefOf(string? v) =>
        v != null && v.StartsWith("0x") && v.IndexOf(' ') is var sp and > 2 ? Hex(v[..sp]) : v != null && v.StartsWith("0x") ? Hex(v) : null;

    /// <summary>Address ranges of a DIE: low_pc/high_pc, or DW_AT_ranges' resolved list.</summary>
    internal static List<(ulong, ulong)> RangesOf(Die d)
    {
        var list = new List<(ulong, ulong)>();
        if (d.Attrs.TryGetValue("DW_AT_low_pc", out var lo) && d.Attrs.TryGetValue("DW_AT_high_pc", out var hi))
        {
            ulong l = Hex(lo.Trim()), h = Hex(hi.Trim());
            if (h > l) list.Add((l, h));
        }
        else if (d.Attrs.TryGetValue("DW_AT_ranges", out var ranges))
            foreach (Match m in Range.Matches(ranges))
                list.Add((Hex(m.Groups[1].Value), Hex(m.Groups[2].Value)));
        return list;
    }

    /// <summary>A location attribute: one expression for every address, or a resolved location list.</summary>
    internal static List<DwarfLocation> LocationsOf(string? v)
    {
        var list = new List<DwarfLocation>();
        if (v == null) return list;
        if (!v.StartsWith("0x"))
        {
            list.Add(new DwarfLocation(0, ulong.MaxValue, v.Trim()));
            return list;
        }
        foreach (var line in v.Split('\n'))
            if (Range.Match(line) is { Success: true } m && m.Groups[3].Success)
                list.Add(new DwarfLocation(Hex(m.Groups[1].Value), Hex(m.Groups[2].Value), m.Groups[3].Value.Trim()));
        return list;
    }

    /// <summary>
    /// Builds the function from its DIE subtree (<paramref name="dieText"/>), the subtree of its abstract
    /// origin when it has one (names, types and file live there for an out-of-line copy of an inline
    /// function), and its compilation unit's line table (<paramref name="lineText"/>).
    /// </summary>
    public static DwarfFunction Parse(string name, string dieText, string? originText, string lineText)
    {
        var dies = ParseDies(dieText);
        if (dies.Count == 0 || dies[0].Tag != "DW_TAG_subprogram")
            throw new InvalidDataException($"{name}: no DW_TAG_subprogram in llvm-dwarfdump's output");
        var root = dies[0];
        var origin = originText != null ? ParseDies(originText).ToDictionary(d => d.Offset) : new Dictionary<ulong, Die>();
        Die? Abstract(Die d) => RefOf(d.Attrs.GetValueOrDefault("DW_AT_abstract_origin")) is { } o && origin.TryGetValue(o, out var od) ? od : null;
        string? Attr(Die d, string a) => d.Attrs.GetValueOrDefault(a) ?? Abstract(d)?.Attrs.GetValueOrDefault(a);

        string declFile = QuotedOf(Attr(root, "DW_AT_decl_file")) ?? "";
        var vars = new List<DwarfVariable>();
        // Scopes: the lexical blocks above each DIE; inlined subroutines' variables belong to their callee and are left out.
        var blocks = new List<(int Depth, List<(ulong, ulong)> Ranges, bool Inlined)>();
        foreach (var d in dies.Skip(1))
        {
            while (blocks.Count > 0 && blocks[^1].Depth >= d.Depth) blocks.RemoveAt(blocks.Count - 1);
            if (d.Tag is "DW_TAG_lexical_block" or "DW_TAG_inlined_subroutine")
            {
                blocks.Add((d.Depth, RangesOf(d), d.Tag == "DW_TAG_inlined_subroutine"));
                continue;
            }
            if (d.Tag is not ("DW_TAG_formal_parameter" or "DW_TAG_variable") || blocks.Any(b => b.Inlined)) continue;
            string? varName = QuotedOf(d.Attrs.GetValueOrDefault("DW_AT_name")) ?? QuotedOf(d.Attrs.GetValueOrDefault("DW_AT_abstract_origin"))
                ?? QuotedOf(Abstract(d)?.Attrs.GetValueOrDefault("DW_AT_name"));
            if (varName == null) continue;
            string type = QuotedOf(Attr(d, "DW_AT_type")) ?? "";
            var scope = blocks.Count > 0 ? blocks[^1].Ranges : [];
            var locs = d.Attrs.TryGetValue("DW_AT_const_value", out var cv)
                ? [new DwarfLocation(0, ulong.MaxValue, "DW_OP_const " + cv.Trim())]
                : LocationsOf(d.Attrs.GetValueOrDefault("DW_AT_location"));
            vars.Add(new DwarfVariable(varName, type, d.Tag == "DW_TAG_formal_parameter", locs, scope));
        }
        var ranges = RangesOf(root);
        string file = KernelPaths.Relative(declFile);
        return new DwarfFunction
        {
            Name = name,
            File = file,
            Ranges = ranges,
            FrameBaseIsCfa = Attr(root, "DW_AT_frame_base")?.Contains("DW_OP_call_frame_cfa") == true,
            Variables = vars,
            LineProbes = LineProbesOf(lineText, file, ranges),
        };
    }

    private static readonly Regex Row = new(@"^0x([0-9a-f]{16})\s+(\d+)\s+(\d+)\s+(\d+)\s+\d+\s+\d+\s*(.*)$", RegexOptions.Compiled);
    private static readonly Regex IncludeDir = new(@"^include_directories\[\s*(\d+)\] = ""(.*)""", RegexOptions.Compiled);
    private static readonly Regex FileEntry = new(@"^file_names\[\s*(\d+)\]:", RegexOptions.Compiled);

    /// <summary>
    /// The is_stmt rows of <paramref name="file"/> inside the function's ranges, from `llvm-dwarfdump --debug-line=OFFSET`:
    /// one probe per address, with the lines that begin there in row order.
    /// </summary>
    internal static List<DwarfLineProbe> LineProbesOf(string lineText, string file, IReadOnlyList<(ulong Low, ulong High)> ranges)
    {
        var dirs = new Dictionary<int, string>();
        var files = new Dictionary<int, (string Name, int Dir)>();
        int currentFile = -1;
        var byAddress = new SortedDictionary<ulong, List<int>>();
        foreach (var raw in lineText.Split('\n'))
        {
            string line = raw.TrimEnd();
            if (IncludeDir.Match(line) is { Success: true } inc)
            {
                dirs[int.Parse(inc.Groups[1].Value, CultureInfo.InvariantCulture)] = inc.Groups[2].Value;
                continue;
            }
            if (FileEntry.Match(line) is { Success: true } fe)
            {
                currentFile = int.Parse(fe.Groups[1].Value, CultureInfo.InvariantCulture);
                files[currentFile] = ("", 0);
                continue;
            }
            string t = line.Trim();
            if (currentFile >= 0 && t.StartsWith("name: ", StringComparison.Ordinal))
            {
                files[currentFile] = (QuotedOf(t) ?? "", files[currentFile].Dir);
                continue;
            }
            if (currentFile >= 0 && t.StartsWith("dir_index: ", StringComparison.Ordinal))
            {
                files[currentFile] = (files[currentFile].Name, int.Parse(t[11..], CultureInfo.InvariantCulture));
                continue;
            }
            var r = Row.Match(line);
            if (!r.Success) continue;
            string flags = r.Groups[5].Value;
            if (!flags.Contains("is_stmt") || flags.Contains("end_sequence")) continue;
            ulong addr = Hex(r.Groups[1].Value);
            if (!ranges.Any(x => addr >= x.Low && addr < x.High)) continue;
            int fileIndex = int.Parse(r.Groups[4].Value, CultureInfo.InvariantCulture);
            if (!files.TryGetValue(fileIndex, out var f)) continue;
            string full = f.Name.StartsWith('/') || !dirs.TryGetValue(f.Dir, out var dir) ? f.Name : dir + "/" + f.Name;
            if (KernelPaths.Relative(full) != file && KernelPaths.Relative(f.Name) != file) continue;
            int ln = int.Parse(r.Groups[2].Value, CultureInfo.InvariantCulture);
            if (ln == 0) continue;
            if (!byAddress.TryGetValue(addr, out var lines)) byAddress[addr] = lines = [];
            if (lines.Count == 0 || lines[^1] != ln) lines.Add(ln);
        }
        return byAddress.Select(kv => new DwarfLineProbe(kv.Key, kv.Value)).ToList();
    }
}
