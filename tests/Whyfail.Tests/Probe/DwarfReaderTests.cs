using System.Diagnostics;
using System.Text.RegularExpressions;
using Whyfail.Analysis.Origin.Kernel;
using Whyfail.Analysis.Probe;
using Whyfail.Tests.Integration;
using Xunit;
using Xunit.Abstractions;

namespace Whyfail.Tests.Probe;

/// <summary>
/// DwarfReader on real DWARF: a program compiled here with gcc -O2 -g (line rows checked against
/// llvm-dwarfdump's), and perf_copy_attr in the lab kernels' -dbg vmlinux files (the mask check's line
/// and the variable mask), reading only that function's compilation unit.
/// </summary>
[Trait("kernel", "host")]
public class DwarfReaderTests(ITestOutputHelper output)
{
    private const string Source = """
        struct attr { unsigned long type, size, sample_type, branch; };
        extern int helper(struct attr *a);
        __attribute__((noinline)) int copy_attr(struct attr *uattr, struct attr *attr)
        {
        	int ret = helper(attr);
        	if (ret)
        		return ret;
        	if (attr->sample_type & 4) {
        		unsigned long mask = attr->branch;
        		if (mask & ~(7UL))
        			return -22;
        	}
        	return 0;
        }
        __attribute__((noinline)) int helper(struct attr *a) { return a->size > 100; }
        int main(void) { struct attr a = {0, 0, 4, 1UL << 62}; return copy_attr(&a, &a); }
        """;

    private static string Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        string o = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{file} {string.Join(' ', args)}: {p.StandardError.ReadToEnd()}");
        return o;
    }

    [FactRequiring("llvm-dwarfdump")]
    public void ACompiledFunctionsLinesAndLocalsMatchLlvmDwarfdump()
    {
        var dir = Directory.CreateTempSubdirectory("whyfail-dwarf-");
        try
        {
            string c = Path.Combine(dir.FullName, "t.c"), exe = Path.Combine(dir.FullName, "t");
            File.WriteAllText(c, Source);
            Run("cc", "-O2", "-g", "-o", exe, c);
            ulong address;
            using (var elf = ElfImage.Open(exe)) address = elf.FindSymbol("copy_attr")!.Value;
            using var reader = new DwarfReader(exe);
            var fn = reader.Function("copy_attr", address);
            Assert.EndsWith("t.c", fn.File);
            Assert.True(fn.FrameBaseIsCfa);
            Assert.Equal(["uattr", "attr"], fn.Variables.Where(v => v.IsParameter).Select(v => v.Name));
            var mask = Assert.Single(fn.Variables, v => v.Name == "mask");
            Assert.Equal(8, mask.Size);
            Assert.NotEmpty(mask.Scope);
            Assert.Equal(4, fn.Variables.Single(v => v.Name == "ret").Size);

            // Every probe is an is_stmt row of t.c that llvm-dwarfdump prints, and the mask check's lines are there.
            string rows = Run("llvm-dwarfdump", "--debug-line", exe);
            foreach (var p in fn.LineProbes)
                foreach (int line in p.Lines)
                    Assert.Matches(new Regex($@"^0x{p.Address:x16}\s+{line}\s+\d+\s+\d+\s+\d+\s+\d+\s+is_stmt", RegexOptions.Multiline), rows);
            var lines = fn.LineProbes.SelectMany(p => p.Lines).ToHashSet();
            Assert.Contains(9, lines);
            Assert.Contains(10, lines);
            // mask's locations: the same ranges and operations llvm-dwarfdump prints for it.
            string dies = Run("llvm-dwarfdump", "--debug-info", "--name=mask", exe);
            foreach (var loc in mask.Locations)
                Assert.Contains($"[0x{loc.Low:x16}, 0x{loc.High:x16}): {Regex.Replace(loc.Expression, @"(DW_OP_b?reg\d+) R", "$1 ")}".Split(' ')[0], dies);
            output.WriteLine(string.Join("\n", fn.LineProbes.Select(p => $"0x{p.Address:x} {string.Join(',', p.Lines)}")));
        }
        finally
        {
            dir.Delete(true);
        }
    }

    public static IEnumerable<object[]> LabKernels() =>
        Directory.Exists("/var/cache/whyfail-lab/debug")
            ? Directory.GetDirectories("/var/cache/whyfail-lab/debug").Where(d => File.Exists(Path.Combine(d, "vmlinux"))).Select(d => new object[] { d })
            : [];

    [Fact]
    public void PerfCopyAttrInTheLabKernelsIsReadFromItsUnitOnly()
    {
        var dirs = LabKernels().Select(o => (string)o[0]).ToList();
        if (dirs.Count == 0)
        {
            output.WriteLine("SKIPPED in substance: no lab debug info (tests/vm/fetch-debuginfo)");
            return;
        }
        foreach (var dir in dirs)
        {
            string vmlinux = Path.Combine(dir, "vmlinux");
            ulong address;
            using (var elf = ElfImage.Open(vmlinux)) address = elf.FindSymbol("perf_copy_attr")!.Value;
            var sw = Stopwatch.StartNew();
            using var reader = new DwarfReader(vmlinux);
            var fn = reader.Function("perf_copy_attr", address);
            output.WriteLine($"{dir}: {fn.LineProbes.Count} line addresses, {fn.Variables.Count} variables, {reader.LastCost}");
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"reading one function took {sw.Elapsed}");
            Assert.Equal("kernel/events/core.c", fn.File);
            var src = File.ReadAllLines(Path.Combine(dir, "src/kernel/events/core.c"));
            int check = Array.FindIndex(src, l => l.Contains("if (mask & ~(PERF_SAMPLE_BRANCH_MAX-1))")) + 1;
            Assert.True(check > 0);
            Assert.Contains(fn.LineProbes, p => p.Lines.Contains(check));
            var mask = Assert.Single(fn.Variables, v => v.Name == "mask");
            Assert.Equal(8, mask.Size);
            // At the check, mask has a location the probe can read (a register, for gcc 12).
            var at = fn.LineProbes.First(p => p.Lines.Contains(check)).Address;
            var loc = mask.At(at);
            Assert.True(loc != null, $"mask has no location at 0x{at:x}: {string.Join("; ", mask.Locations.Select(l => $"[{l.Low:x},{l.High:x}) {l.Expression}"))}");
            output.WriteLine($"mask at 0x{at:x}: {loc.Expression}");
        }
    }
}
