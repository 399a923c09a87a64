using System.Text;
using Whyfail.Analysis.Origin.Kernel;
using Xunit;

namespace Whyfail.Tests.Origin;

/// <summary>This boot's copy of /proc/kallsyms (<see cref="KallsymsCache"/>): what it keeps and what keys it.</summary>
public class KallsymsCacheTests
{
    [Fact]
    public void TheCopyNamesNoBpfProgramOrTrampolineButKeepsTheirAddressesAsBounds()
    {
        const string text = "ffffffffc0001000 t mod_func\t[ext4]\n" +
                            "ffffffffc0003000 t bpf_prog_6deef7357e7b4530_on_sys_exit\t[bpf]\n" +
                            "ffffffffc0004000 t bpf_trampoline_6442455032\t[bpf]\n" +
                            "ffffffffc0005000 t ftrace_trampoline\t[__builtin__ftrace]\n" +
                            "ffffffffc0006000 t later_func\t[bpfilter]\n";
        var bytes = Encoding.ASCII.GetBytes(text);
        KallsymsCache.ForgetDynamic(bytes);
        var k = Kallsyms.Parse(bytes, "copy");
        Assert.Equal(["mod_func", "later_func"], k.Symbols.Select(s => s.Name));
        // mod_func ends where the first BPF program began: an address in a program has no name (not mod_func+0x2010).
        Assert.True(k.TryGetSymbol("mod_func", out var f));
        Assert.Equal(0x2000UL, f.Size);
        Assert.False(k.TryFind(0xffffffffc0003010, out _));
        // A module whose name merely starts like "bpf" is kept.
        Assert.True(k.Contains("later_func"));
    }

    [Fact]
    public void TheKeyIsTheModulesNamesSizesAndAddressesNotTheirUseCounts()
    {
        const string a = "ext4 1007616 1 - Live 0xffffffffc0a8e000\nmbcache 16384 1 ext4, Live 0xffffffffc0a59000\n";
        const string usedMore = "ext4 1007616 3 - Live 0xffffffffc0a8e000\nmbcache 16384 2 ext4, Live 0xffffffffc0a59000\n";
        const string reloaded = "ext4 1007616 1 - Live 0xffffffffc0b00000\nmbcache 16384 1 ext4, Live 0xffffffffc0a59000\n";
        const string another = a + "loop 32768 0 - Live 0xffffffffc0c00000\n";
        Assert.Equal(KallsymsCache.ModulesKeyOf(a), KallsymsCache.ModulesKeyOf(usedMore));
        Assert.NotEqual(KallsymsCache.ModulesKeyOf(a), KallsymsCache.ModulesKeyOf(reloaded));
        Assert.NotEqual(KallsymsCache.ModulesKeyOf(a), KallsymsCache.ModulesKeyOf(another));
    }
}
