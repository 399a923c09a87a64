using Whyfail.Analysis.Origin.Kernel;
using Xunit;
using Xunit.Abstractions;

namespace Whyfail.Tests.Origin;

public class KernelTextTests(ITestOutputHelper output)
{
    private static byte[] Pattern(int length, byte seed)
    {
        var b = new byte[length];
        for (int i = 0; i < b.Length; i++) b[i] = (byte)(seed + i * 7);
        return b;
    }

    [Fact]
    public void Kcore_MapsVirtualAddressesThroughLoadSegments()
    {
        using var dir = new TempDir();
        var text = Pattern(0x3000, 1);
        var modules = Pattern(0x800, 99);
        new TestElf()
            .Load(0xffff888000000000, Pattern(0x100, 50))       // a direct-map piece
            .Load(0xffffffff9a000000, text)
            .Load(0xffffffffc0000000, modules)
            .WriteTo(dir.File("kcore"));

        using var kcore = KernelText.FromKcore(dir.File("kcore"));
        Assert.Equal(dir.File("kcore"), kcore.Source);
        Assert.Equal(text.AsSpan(0x1234, 64).ToArray(), kcore.Read(0xffffffff9a001234, 64));
        Assert.Equal(modules.AsSpan(0x10, 16).ToArray(), kcore.Read(0xffffffffc0000010, 16));
        var buf = new byte[32];
        Assert.False(kcore.TryRead(0xffffffff9a002ff0, buf));   // runs past the segment end
        Assert.False(kcore.TryRead(0xffffffff80000000, buf));   // unmapped
        var e = Assert.Throws<KernelAnalysisException>(() => kcore.Read(0xffffffff80000000, 8));
        Assert.Contains("not readable", e.Message);
    }

    [Fact]
    public void Vmlinux_IsRelocatedByTheKaslrOffset()
    {
        using var dir = new TempDir();
        var text = Pattern(0x2000, 3);
        byte[] id = [0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4];
        new TestElf { Type = 2 }
            .Load(0xffffffff81000000, text)
            .Symbol("startup_64", 0xffffffff81000000)
            .Symbol("_text", 0xffffffff81000000)
            .BuildId(id)
            .WriteTo(dir.File("vmlinux"));
        var live = Kallsyms.Parse("""
            ffffffff9c200000 T _text
            ffffffff9c200100 T some_function
            """);

        using var vmlinux = KernelText.FromVmlinux(dir.File("vmlinux"), live, runningBuildId: "deadbeef01020304");
        Assert.Contains("KASLR offset +0x1b200000", vmlinux.Source);
        Assert.Equal(text.AsSpan(0x100, 32).ToArray(), vmlinux.Read(0xffffffff9c200100, 32));

        var mismatch = Assert.Throws<KernelAnalysisException>(() => KernelText.FromVmlinux(dir.File("vmlinux"), live, runningBuildId: "0011"));
        Assert.Contains("is not the running kernel", mismatch.Message);

        using var image = ElfImage.Open(dir.File("vmlinux"));
        Assert.Equal("deadbeef01020304", image.ReadBuildId());
        Assert.Equal(0xffffffff81000000UL, image.FindSymbol("_text"));
        Assert.Null(image.FindSymbol("_etext"));
    }

    [Fact]
    public void StrippedVmlinux_TakesTextFromItsFirstTextSegment()
    {
        using var dir = new TempDir();
        var text = Pattern(0x400, 5);
        new TestElf { Type = 2 }
            .Load(0x0, Pattern(0x40, 1))                 // .data..percpu is linked at 0
            .Load(0xffffffff81000000, text)
            .WriteTo(dir.File("vmlinux"));
        var live = Kallsyms.Parse("ffffffff8a000000 T _text\n");
        using var vmlinux = KernelText.FromVmlinux(dir.File("vmlinux"), live);
        Assert.Contains("KASLR offset +0x9000000, _text from the first text segment", vmlinux.Source);
        Assert.Equal(text.AsSpan(0x20, 8).ToArray(), vmlinux.Read(0xffffffff8a000020, 8));
    }

    [Fact]
    public void Open_PrefersAGivenVmlinux_ThenKcore()
    {
        using var dir = new TempDir();
        new TestElf().Load(0xffffffff81000000, Pattern(0x100, 9)).WriteTo(dir.File("kcore"));
        new TestElf { Type = 2 }.Load(0xffffffff81000000, Pattern(0x100, 77)).Symbol("_text", 0xffffffff81000000).WriteTo(dir.File("vmlinux"));
        var live = Kallsyms.Parse("ffffffff81000000 T _text\nffffffff81000040 T f\n");

        using (var both = KernelText.Open(live, dir.File("vmlinux"), dir.File("kcore"), searchWellKnownPaths: false))
        {
            Assert.StartsWith(dir.File("vmlinux"), both.Source);
            Assert.EndsWith(dir.File("kcore"), both.Source);
            Assert.Equal(77, both.Read(0xffffffff81000000, 1)[0]);
        }
        using (var kcore = KernelText.Open(live, null, dir.File("kcore"), searchWellKnownPaths: false))
            Assert.Equal(9, kcore.Read(0xffffffff81000000, 1)[0]);
    }

    [Fact]
    public void Open_SaysWhyNothingIsReadable()
    {
        var live = Kallsyms.Parse("ffffffff81000000 T _text\n");
        var e = Assert.Throws<KernelAnalysisException>(() =>
            KernelText.Open(live, null, "/nonexistent/kcore", searchWellKnownPaths: false));
        output.WriteLine(e.Message);
        Assert.StartsWith("kernel text is not readable: /nonexistent/kcore is missing", e.Message);
        Assert.Contains("lockdown", e.Message);

        using var dir = new TempDir();
        File.WriteAllText(dir.File("kcore"), "not an elf file at all, not at all................................");
        e = Assert.Throws<KernelAnalysisException>(() => KernelText.Open(live, null, dir.File("kcore"), searchWellKnownPaths: false));
        Assert.Contains("is not an ELF file", e.Message);

        var hidden = Kallsyms.Parse("0000000000000000 T _text\n");
        Assert.Throws<KernelAnalysisException>(() => KernelText.Open(hidden, null, dir.File("kcore")));
    }

    [Fact]
    public void RealKernel_TextIsReadableOrTheReasonIsClear()
    {
        var k = Kallsyms.Load();
        if (!k.AddressesVisible)
        {
            output.WriteLine("not checked: /proc/kallsyms hides addresses here");
            return;
        }
        try
        {
            using var text = KernelText.Open(k, runningBuildId: KernelBuildId.FromNotes());
            output.WriteLine($"kernel text from {text.Source}");
            Assert.True(k.TryGetSymbol("do_sys_openat2", out var f));
            var code = text.Read(f.Address, (int)Math.Min(f.Size, 4096));
            Assert.Contains(CallSiteScanner.Scan(code, code.Length, f.Address), s => s.Kind == CallSiteKind.Call);
        }
        catch (KernelAnalysisException e)
        {
            output.WriteLine($"not checked: {e.Message}");
            Assert.StartsWith("kernel text is not readable:", e.Message);
            Assert.False(File.Exists("/proc/kcore") && Environment.GetEnvironmentVariable("WHYFAIL_LAB") == "1");
        }
    }
}
