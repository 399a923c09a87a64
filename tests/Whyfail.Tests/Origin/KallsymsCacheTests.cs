using Whyfail.Analysis.Origin.Kernel;
using Whyfail.Capture;
using Xunit;

namespace Whyfail.Tests.Origin;

/// <summary>
/// This boot's copy of the kernel's text symbols (<see cref="KallsymsCache"/>): made from /proc/kallsyms, read back
/// equal to it but for the symbols that change within a boot (BPF programs and trampolines); a copy of another module
/// set, a cut one, a symlink or another owner's file is not used.
/// </summary>
[Collection("tracing")]
[Trait("suite", "integration")]
public class KallsymsCacheTests
{
    [Fact]
    public void This_boots_copy_holds_the_kernels_text_symbols_but_the_dynamic_ones()
    {
        string? boot = BtfIdCache.FileName();
        Assert.True(boot != null, "whyfail's tests run as root: the cache directory should be usable");
        string file = boot + ".kallsyms";
        File.Delete(file);
        var first = KallsymsCache.Load(); // /proc/kallsyms; the copy is made
        Assert.True(first.AddressesVisible);
        Assert.Equal(Kallsyms.DefaultPath, first.Source);
        Assert.True(File.Exists(file));
        var second = KallsymsCache.Load(); // the copy
        Assert.Contains("this boot's copy", second.Source);
        Assert.Equal(first.Symbols.Where(s => KallsymsCache.Kept(s)), second.Symbols);
        Assert.True(second.TryGetAddress("do_sys_openat2", out ulong a) && first.TryGetAddress("do_sys_openat2", out ulong b) && a == b);
    }

    [Fact]
    public void A_copy_of_another_module_set_a_cut_one_a_symlink_or_another_owners_is_not_used()
    {
        var dir = Directory.CreateTempSubdirectory("wf-kallsyms-");
        try
        {
            string file = Path.Combine(dir.FullName, "copy");
            var table = Kallsyms.Parse(
                "ffffffff81000000 T _text\nffffffff81000100 T do_a\nffffffff81000200 t do_b\nffffffff81000300 D some_data\n" +
                "ffffffffc0000000 t mod_fn\t[somemod]\nffffffffc0001000 t bpf_prog_0123_x\t[bpf]\nffffffffc0002000 t ftrace_trampoline\t[__builtin__ftrace]\n");
            KallsymsCache.Write(file, "key-1", table);
            var back = KallsymsCache.Read(file, "key-1");
            Assert.NotNull(back);
            Assert.Equal(table.Symbols.Where(s => s.Module is not ("bpf" or "__builtin__ftrace")), back.Symbols);
            Assert.Equal(0x100UL, back.Symbols.Single(s => s.Name == "do_b").Size); // bounded by the data symbol, as in the table
            Assert.Null(KallsymsCache.Read(file, "key-2")); // another module set

            byte[] whole = File.ReadAllBytes(file);
            File.WriteAllBytes(file, whole[..^4]); // a cut last line
            Assert.Null(KallsymsCache.Read(file, "key-1"));
            File.WriteAllBytes(file, whole);
            Assert.NotNull(KallsymsCache.Read(file, "key-1"));

            string link = Path.Combine(dir.FullName, "link");
            File.CreateSymbolicLink(link, file);
            Assert.Null(KallsymsCache.Read(link, "key-1"));

            using (var chown = System.Diagnostics.Process.Start("chown", ["65534:65534", file]))
            {
                chown.WaitForExit();
                Assert.Equal(0, chown.ExitCode);
            }
            Assert.Null(KallsymsCache.Read(file, "key-1"));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
