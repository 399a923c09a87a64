using Whyfail.Analysis.Origin.Kernel;
using Xunit;
using Xunit.Abstractions;

namespace Whyfail.Tests.Origin;

public class KallsymsTests(ITestOutputHelper output)
{
    private const string Sample = """
        ffffffff81000000 T _text
        ffffffff81000000 T _stext
        ffffffff81000010 t __pfx_do_thing
        ffffffff81000020 t do_thing
        ffffffff81000080 T other_thing
        ffffffff810000c0 t other_thing.cold
        ffffffff81000100 W weak_thing
        ffffffff81000140 T do_thing
        ffffffff81000180 T _etext
        ffffffff82000000 D some_data
        0000000000000000 A fixed_percpu_data
        ffffffffc0001000 t mod_func	[ext4]
        ffffffffc0001040 t mod_func2	[ext4]
        ffffffffc0002000 d mod_data	[ext4]
        """;

    [Fact]
    public void Parses_TextSymbols_SortedWithSizes()
    {
        var k = Kallsyms.Parse(Sample);
        Assert.True(k.AddressesVisible);
        Assert.DoesNotContain(k.Symbols, s => s.Name is "some_data" or "fixed_percpu_data" or "mod_data");
        Assert.Equal(k.Symbols.OrderBy(s => s.Address).Select(s => s.Address), k.Symbols.Select(s => s.Address));

        Assert.True(k.TryGetSymbol("do_thing", out var first));
        Assert.Equal(0xffffffff81000020UL, first.Address);        // the first (lowest) of a shared name
        Assert.Equal(0x60UL, first.Size);                         // up to other_thing
        Assert.Equal('t', first.Type);
        Assert.Equal(2, k.CountNamed("do_thing"));
        Assert.Equal(1, k.CountNamed("other_thing"));

        Assert.True(k.TryGetSymbol("_etext", out var etext));
        Assert.Equal(0xffffffff82000000UL - 0xffffffff81000180UL, etext.Size); // a data symbol bounds text too

        Assert.True(k.TryGetSymbol("mod_func", out var mod));
        Assert.Equal("ext4", mod.Module);
        Assert.Equal(0x40UL, mod.Size);
        Assert.True(k.TryGetSymbol("mod_func2", out var mod2));
        Assert.Equal(0x1000UL - 0x40, mod2.Size);                 // bounded by the module's data symbol
        Assert.True(k.TryGetSymbol("weak_thing", out var weak));
        Assert.Equal('W', weak.Type);
    }

    [Fact]
    public void Finds_ByAddress()
    {
        var k = Kallsyms.Parse(Sample);
        Assert.True(k.TryFind(0xffffffff81000020, out var s));
        Assert.Equal("do_thing", s.Name);
        Assert.True(k.TryFind(0xffffffff8100007f, out s));
        Assert.Equal("do_thing", s.Name);
        Assert.True(k.TryFind(0xffffffff81000080, out s));
        Assert.Equal("other_thing", s.Name);
        Assert.True(k.TryFind(0xffffffff810000c5, out s));
        Assert.Equal("other_thing.cold", s.Name);
        Assert.True(k.TryFind(0xffffffff81000015, out s));
        Assert.Equal("__pfx_do_thing", s.Name);
        Assert.False(k.TryFind(0xffffffff80000000, out _));     // below everything
        Assert.True(k.TryFindStart(0xffffffff81000000, out s));
        Assert.Equal("_text", s.Name);                           // aliases: the first listed
        Assert.False(k.TryFindStart(0xffffffff81000021, out _));
        Assert.True(k.TryFindNext(k.Symbols.First(x => x.Name == "__pfx_do_thing"), out var next));
        Assert.Equal("do_thing", next.Name);
        Assert.True(k.TryGetAddress("other_thing", out ulong a));
        Assert.Equal(0xffffffff81000080UL, a);
        Assert.False(k.TryGetAddress("nothing", out _));
    }

    [Fact]
    public void HiddenAddresses_AreReported()
    {
        var k = Kallsyms.Parse("""
            0000000000000000 T _text
            0000000000000000 t do_thing
            0000000000000000 T other_thing
            """, "/proc/kallsyms");
        Assert.False(k.AddressesVisible);
        var e = Assert.Throws<KernelAnalysisException>(k.RequireAddresses);
        Assert.Contains("every address as 0", e.Message);
        Assert.Contains("/proc/kallsyms", e.Message);
        Assert.Throws<KernelAnalysisException>(() => new CallGraph(k, new ArrayText(0, []), null, null));
    }

    [Fact]
    public void MissingFile_IsReported()
    {
        var e = Assert.Throws<KernelAnalysisException>(() => Kallsyms.Load("/nonexistent/kallsyms"));
        Assert.Contains("/nonexistent/kallsyms", e.Message);
    }

    [Fact]
    public void RealKallsyms_IsParsedAndSearchable()
    {
        var k = Kallsyms.Load();
        output.WriteLine($"{k.Count} text symbols; addresses visible: {k.AddressesVisible}");
        Assert.True(k.Count > 10_000);
        if (!k.AddressesVisible)
        {
            output.WriteLine("not checked further: /proc/kallsyms hides addresses here (not root, or kptr_restrict)");
            return;
        }
        Assert.True(k.TryGetAddress("_text", out ulong text));
        Assert.True(k.TryGetSymbol("do_sys_openat2", out var open));
        Assert.InRange(open.Size, 16UL, 64UL * 1024);
        Assert.True(open.Address > text);
        Assert.True(k.TryFind(open.Address + open.Size / 2, out var inside));
        Assert.Equal("do_sys_openat2", inside.Name);
        Assert.True(k.TryFindStart(open.Address, out var start));
        Assert.Equal("do_sys_openat2", start.Name);
        Assert.True(k.Contains("__x64_sys_openat"));
    }
}
