using System.Text;
using Whyfail.Analysis.Origin.Kernel;
using Xunit;

namespace Whyfail.Tests.Origin;

/// <summary>This boot's image of the symbol table (<see cref="KallsymsCache"/>): what it keeps and what keys it.</summary>
public class KallsymsCacheTests
{
    [Fact]
    public void TheImageNamesNoBpfProgramOrTrampolineButKeepsTheirAddressesAsBounds()
    {
        const string text = "ffffffff81000000 T _text\n" +
                            "ffffffff81000000 T _stext\n" +
                            "ffffffff81001000 t do_one\n" +
                            "ffffffff81002000 D some_data\n" +
                            "ffffffffc0001000 t mod_func\t[ext4]\n" +
                            "ffffffffc0003000 t bpf_prog_6deef7357e7b4530_on_sys_exit\t[bpf]\n" +
                            "ffffffffc0004000 t bpf_trampoline_6442455032\t[bpf]\n" +
                            "ffffffffc0005000 t ftrace_trampoline\t[__builtin__ftrace]\n" +
                            "ffffffffc0006000 t later_func\t[bpfilter]\n" +
                            "ffffffffc0000800 t before_func\t[ext4]\n";
        var parsed = Kallsyms.Parse(Encoding.ASCII.GetBytes(text), "text");
        Assert.True(parsed.Contains("bpf_trampoline_6442455032")); // the text itself names them
        string dir = Directory.CreateTempSubdirectory("whyfail-kallsyms-").FullName;
        try
        {
            string path = Path.Combine(dir, "boot.image");
            KallsymsCache.Write(path, "key-1", parsed);
            uint me = Whyfail.Capture.Native.Libc.GetEuid();
            Assert.Null(KallsymsCache.Map(path, "key-2", me)); // other modules loaded: not this image
            var k = KallsymsCache.Map(path, "key-1", me);
            Assert.NotNull(k);
            Assert.Equal(["_text", "_stext", "do_one", "before_func", "mod_func", "later_func"], k.Symbols.Select(s => s.Name));
            Assert.Equal(["ext4", "ext4", "bpfilter"], k.Symbols.Where(s => s.Module != null).Select(s => s.Module));
            // mod_func ends where the first BPF program began: an address in a program has no name (not mod_func+0x2010).
            Assert.True(k.TryGetSymbol("mod_func", out var f));
            Assert.Equal(0x2000UL, f.Size);
            Assert.False(k.TryFind(0xffffffffc0003010, out _));
            Assert.True(k.TryFind(0xffffffff81001010, out var one));
            Assert.Equal(("do_one", 0x1000UL), (one.Name, one.Size)); // ends at the data symbol
            Assert.True(k.TryFindStart(0xffffffff81000000, out var first));
            Assert.Equal("_text", first.Name);
            Assert.Equal(0, k.CountNamed("bpf_trampoline_6442455032"));
            // A module whose name merely starts like "bpf" is kept.
            Assert.True(k.Contains("later_func"));
            Assert.True(k.AddressesVisible);
            // Only a regular file, not a symlink to one.
            string link = Path.Combine(dir, "link.image");
            File.CreateSymbolicLink(link, path);
            Assert.Null(KallsymsCache.Map(link, "key-1", me));
            // Another owner's file is not read.
            Assert.Null(KallsymsCache.Map(path, "key-1", me + 1));
            // A damaged (truncated) image is not read.
            File.WriteAllBytes(path, File.ReadAllBytes(path)[..^1]);
            Assert.Null(KallsymsCache.Map(path, "key-1", me));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
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
