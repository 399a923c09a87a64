using System.Globalization;
using System.Reflection;
using System.Text;
using Decoder = Whyfail.Decoding.Decoder;
using Whyfail.Capture;
using Whyfail.Capture.Bpf;
using Whyfail.Decoding;
using Xunit;

namespace Whyfail.Tests.Capture;

/// <summary>
/// The capture table made at build time (src/Whyfail/Capture/CaptureTable.g.cs: the capture map's keys and values, and the
/// follow-up calls) against what the decoder families and FollowUpCalls declare now: the families stay the one source of
/// truth, the table a checked copy. With WHYFAIL_WRITE_CAPTURE_TABLE=FILE (tools/gen-capture-table) the first test writes
/// the table to FILE instead.
/// </summary>
public class CaptureTableTests
{
    private const string GeneratedFile = "src/Whyfail/Capture/CaptureTable.g.cs";
    private const string Regenerate = "run tools/gen-capture-table, then build again";

    private static readonly CaptureTable Families = CaptureTable.From(Decoder.CaptureSpecs());

    [Fact]
    public void BuiltInIsWhatTheFamiliesDeclare()
    {
        if (Environment.GetEnvironmentVariable("WHYFAIL_WRITE_CAPTURE_TABLE") is { Length: > 0 } write)
        {
            File.WriteAllText(write, Source(Families, FollowUpCalls.Compute()));
            return;
        }
        var built = CaptureTable.BuiltIn;
        var differ = Enumerable.Range(0, SyscallTable.MaxNr)
            .Where(nr => Families.SpecFor(nr)?.ToString() + Fds(Families.SpecFor(nr)) != built.SpecFor(nr)?.ToString() + Fds(built.SpecFor(nr)))
            .Select(nr => $"{SyscallTable.DisplayName(nr)}: built \"{built.SpecFor(nr)}{Fds(built.SpecFor(nr))}\", families \"{Families.SpecFor(nr)}{Fds(Families.SpecFor(nr))}\"")
            .ToList();
        Assert.True(differ.Count == 0, $"{GeneratedFile} no longer says what the decoder families capture ({differ.Count} calls differ; {Regenerate}): " +
            string.Join("; ", differ.Take(5)));
        Assert.True(built.Keys.SequenceEqual(Families.Keys) && built.Values.SequenceEqual(Families.Values),
            $"{GeneratedFile}'s bytes differ from the families' specs encoded now (wf_capture_spec's layout changed?); {Regenerate}");
        var families = Decoder.FamiliesByCall();
        var wrongFamilies = Enumerable.Range(0, SyscallTable.MaxNr).Where(nr => CaptureTable.FamiliesOf(nr) != families.GetValueOrDefault(nr))
            .Select(nr => $"{SyscallTable.DisplayName(nr)}: built 0x{CaptureTable.FamiliesOf(nr):x}, families 0x{families.GetValueOrDefault(nr):x}").ToList();
        Assert.True(wrongFamilies.Count == 0, $"{GeneratedFile}'s decoder families per call differ from the families' registration now " +
            $"({wrongFamilies.Count} calls; {Regenerate}): {string.Join("; ", wrongFamilies.Take(5))}");
        var followUps = FollowUpCalls.Compute().Order().Select(nr => (ushort)nr).ToArray();
        Assert.True(CaptureTable.FollowUps.SequenceEqual(followUps),
            $"{GeneratedFile}'s follow-up calls differ from FollowUpCalls.Compute (built: {CaptureTable.FollowUps.Length}, now: {followUps.Length}); {Regenerate}");
        Assert.Equal(FollowUpCalls.Compute().Order(), FollowUpCalls.Default().Order());
        foreach (var (name, value) in ConfigNumbers())
            Assert.True(typeof(CaptureTable).GetField(name, BindingFlags.NonPublic | BindingFlags.Static)?.GetRawConstantValue() is uint have && have == value,
                $"{GeneratedFile}'s {name} is not {value} (the syscall and xlat tables' now); {Regenerate}");
    }

    /// <summary>The numbers wf_config takes for the verdict, from the syscall and xlat tables (constants of the table, so that
    /// configuring the BPF side reads neither table before the command starts).</summary>
    private static (string Name, uint Value)[] ConfigNumbers() =>
    [
        ("NrWrite", Nr("write")), ("NrWritev", Nr("writev")), ("NrPwrite64", Nr("pwrite64")), ("NrGetsockopt", Nr("getsockopt")),
        ("SolSocket", (uint)Xlat.Table("socket_levels")["SOL_SOCKET"]), ("SoError", (uint)Xlat.Table("so_options")["SO_ERROR"]),
    ];

    private static uint Nr(string name) => SyscallTable.TryGetNumber(name, out int nr) ? (uint)nr : throw new InvalidOperationException($"no syscall {name}");

    [Fact]
    public void GeneratedFileIsCurrent()
    {
        var path = Path.Combine(BpfContractGeneratorTests.RepoRoot(), GeneratedFile);
        Assert.True(File.ReadAllText(path) == Source(Families, FollowUpCalls.Compute()),
            $"{GeneratedFile} is not what the generator writes from the decoder families now; {Regenerate}");
    }

    [Fact]
    public void SpecsReadBackAsDeclared()
    {
        var declared = Decoder.CaptureSpecs().ToList();
        Assert.Equal(declared.Count, CaptureTable.BuiltIn.Count);
        foreach (var (nr, spec) in declared)
        {
            var read = CaptureTable.BuiltIn.SpecFor(nr)!;
            Assert.Equal(spec.ToString() + Fds(spec), read.ToString() + Fds(read));
            Assert.Equal(spec.NestedArg, read.NestedArg);
        }
        Assert.Null(CaptureTable.BuiltIn.SpecFor(SyscallTable.TryGetNumber("getppid", out int getppid) ? getppid : -1));
        Assert.Null(CaptureTable.BuiltIn.SpecFor(-1));
        var openat = CaptureTable.BuiltIn.SpecFor(257)!;
        openat.Size[1] = 1;
        Assert.Equal(CaptureSpec.PathSize, CaptureTable.BuiltIn.SpecFor(257)!.Size[1]); // each a fresh copy
    }

    [Fact]
    public void EntryCopiesAreTheFamiliesEntryCopies()
    {
        var table = CaptureTable.BuiltIn;
        var withEntry = Enumerable.Range(0, table.Count).Where(table.HasEntryCopy).Select(i => (int)table.Keys[i]);
        Assert.Equal(Decoder.CaptureSpecs().Where(s => s.Spec.EntrySize != 0).Select(s => s.Nr), withEntry);
        Assert.NotEmpty(withEntry);
    }

    private static string Fds(CaptureSpec? s) => s is { FdArgs: not 0 } ? $" fds={s.FdArgs}" : "";

    /// <summary>
    /// CaptureTable.g.cs for <paramref name="table"/> and <paramref name="followUps"/>: the keys, the values (one line per call
    /// under a comment saying what it copies), the follow-up numbers, and a constant that divides by zero (a build error)
    /// when wf_capture_spec's layout is no longer the one the bytes were made for.
    /// </summary>
    private static string Source(CaptureTable table, IEnumerable<int> followUps)
    {
        var inv = CultureInfo.InvariantCulture;
        var layout = new (string Name, int Value)[]
        {
            ("SizeOf", WfCaptureSpec.SizeOf), ("Layout.Kind", WfCaptureSpec.Layout.Kind), ("Layout.KindCount", WfCaptureSpec.Layout.KindCount),
            ("Layout.LenArg", WfCaptureSpec.Layout.LenArg), ("Layout.Size", WfCaptureSpec.Layout.Size), ("Layout.FdArgs", WfCaptureSpec.Layout.FdArgs),
            ("Layout.NestedArg", WfCaptureSpec.Layout.NestedArg), ("Layout.EntryArg", WfCaptureSpec.Layout.EntryArg),
            ("Layout.EntrySize", WfCaptureSpec.Layout.EntrySize), ("Layout.NestedPtr", WfCaptureSpec.Layout.NestedPtr),
            ("Layout.NestedLen", WfCaptureSpec.Layout.NestedLen), ("Layout.NestedLenSize", WfCaptureSpec.Layout.NestedLenSize),
            ("Layout.NestedElem", WfCaptureSpec.Layout.NestedElem), ("Layout.NestedSize", WfCaptureSpec.Layout.NestedSize),
            ("Layout.NestedSizeCount", WfCaptureSpec.Layout.NestedSizeCount),
        };
        var s = new StringBuilder()
            .Append("// <auto-generated>\n")
            .Append("// Written by tools/gen-capture-table from the decoder families (src/Whyfail/Decoding/Families, via Decoder.CaptureSpecs)\n")
            .Append("// and FollowUpCalls.Compute; do not edit. tests/Whyfail.Tests/Capture/CaptureTableTests.cs fails when it no longer matches them.\n")
            .Append("// </auto-generated>\n")
            .Append("using Whyfail.Capture.Bpf;\n\nnamespace Whyfail.Capture;\n\npublic sealed partial class CaptureTable\n{\n")
            .Append("    /// <summary>wf_capture_spec's layout when the values below were made: any other is a build error (division by zero).</summary>\n")
            .Append("    private const int LayoutIsTheGenerated = 1 / (")
            .Append(string.Join(" && ", layout.Select(f => $"WfCaptureSpec.{f.Name} == {f.Value.ToString(inv)}")))
            .Append(" ? 1 : 0);\n\n")
            .Append("    /// <summary>What wf_config takes for the verdict (write calls, getsockopt's SOL_SOCKET/SO_ERROR), from the syscall and xlat tables.</summary>\n")
            .Append("    internal const uint ").Append(string.Join(", ", ConfigNumbers().Select(c => $"{c.Name} = {c.Value.ToString(inv)}"))).Append(";\n")
            .Append("\n    private static ReadOnlySpan<uint> GeneratedKeys =>\n    [\n");
        Rows(s, table.Keys.ToArray().Select(k => (int)k));
        s.Append("    ];\n\n    private static ReadOnlySpan<byte> GeneratedValues =>\n    [\n");
        for (int i = 0; i < table.Count; i++)
        {
            int nr = (int)table.Keys[i];
            var spec = table.SpecFor(nr)!;
            var what = string.Join(", ", new[] { spec.ToString(), spec.FdArgs != 0 ? "descriptors " + string.Join(" ", Enumerable.Range(0, 6).Where(a => (spec.FdArgs & (1 << a)) != 0).Select(a => $"arg{a}")) : "" }.Where(w => w.Length > 0));
            s.Append($"        // {nr.ToString(inv)} {SyscallTable.DisplayName(nr)}: {what}\n        ")
             .Append(string.Join(",", table.Values.Slice(i * WfCaptureSpec.SizeOf, WfCaptureSpec.SizeOf).ToArray().Select(b => b.ToString(inv))))
             .Append(",\n");
        }
        s.Append("    ];\n\n    private static ReadOnlySpan<ushort> GeneratedFollowUps =>\n    [\n");
        Rows(s, followUps.Order());
        // The families of each call, one line per call (bit i: Decoder's i-th family).
        var families = Decoder.FamiliesByCall();
        s.Append("    ];\n\n    private static ReadOnlySpan<ushort> GeneratedFamilyCalls =>\n    [\n");
        Rows(s, families.Keys);
        s.Append("    ];\n\n    private static ReadOnlySpan<ulong> GeneratedFamilyMasks =>\n    [\n");
        foreach (var (nr, mask) in families)
            s.Append($"        0x{mask.ToString("x", inv)}, // {nr.ToString(inv)} {SyscallTable.DisplayName(nr)}\n");
        // The calls with an entry copy by name: their syscalls:sys_enter_NAME tracepoints carry the copy.
        s.Append("    ];\n\n    private static readonly (uint Nr, string Name)[] GeneratedEntryCalls =\n    [\n");
        for (int i = 0; i < table.Count; i++)
            if (table.HasEntryCopy(i))
                s.Append($"        ({table.Keys[i].ToString(inv)}, \"{SyscallTable.Name((int)table.Keys[i])}\"),\n");
        return s.Append("    ];\n}\n").ToString();
    }

    private static void Rows(StringBuilder s, IEnumerable<int> numbers)
    {
        foreach (var row in numbers.Chunk(20))
            s.Append("        ").Append(string.Join(", ", row.Select(n => n.ToString(CultureInfo.InvariantCulture)))).Append(",\n");
    }
}
