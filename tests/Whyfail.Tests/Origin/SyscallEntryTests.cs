using Whyfail.Analysis.Origin.Kernel;
using Whyfail.Decoding;
using Xunit;

namespace Whyfail.Tests.Origin;

/// <summary>The kernel_entry column of syscalls_x86_64.tsv (tools/gen-syscall-table) and its users.</summary>
public class SyscallEntryTests
{
    /// <summary>x86_64 numbers without an entry point in the kernel's syscall_64.tbl (never implemented, or removed).</summary>
    private static readonly HashSet<string> NoEntry =
    [
        "uselib", "_sysctl", "create_module", "get_kernel_syms", "query_module", "nfsservctl", "getpmsg", "putpmsg",
        "afs_syscall", "tuxcall", "security", "set_thread_area", "get_thread_area", "vserver", "epoll_ctl_old",
        "epoll_wait_old", "lookup_dcookie",
    ];

    [Fact]
    public void EverySyscallHasItsEntryFunction()
    {
        Assert.True(SyscallTable.All.Count > 350);
        foreach (var s in SyscallTable.All)
        {
            if (NoEntry.Contains(s.Name))
                Assert.Null(s.KernelEntry);
            else
                Assert.Matches("^__x64_sys_[a-z0-9_]+$", s.KernelEntry!);
        }
    }

    [Theory]
    [InlineData("openat", "__x64_sys_openat")]
    [InlineData("umount2", "__x64_sys_umount")]
    [InlineData("sendfile", "__x64_sys_sendfile64")]
    [InlineData("stat", "__x64_sys_newstat")]
    [InlineData("lstat", "__x64_sys_newlstat")]
    [InlineData("fstat", "__x64_sys_newfstat")]
    [InlineData("uname", "__x64_sys_newuname")]
    [InlineData("newfstatat", "__x64_sys_newfstatat")]
    [InlineData("pread64", "__x64_sys_pread64")]
    public void EntryPointsNamedOtherwiseThanTheCall(string syscall, string entry) =>
        Assert.Equal(entry, SyscallTable.KernelEntry(syscall));

    [Fact]
    public void CallsWithoutAnEntryOrUnknownHaveNone()
    {
        Assert.Null(SyscallTable.KernelEntry("_sysctl"));
        Assert.Null(SyscallTable.KernelEntry("nosuchcall"));
    }

    private static CallGraph Graph(params string[] symbols)
    {
        var k = new FakeKernel().Symbol("_text", 0x000, 'T');
        int at = 0x100;
        foreach (var s in symbols)
        {
            k.Symbol(s, at, 'T');
            at += 0x100;
        }
        k.Symbol("_etext", at, 'T');
        foreach (var s in symbols) k.Code(s).Ret();
        return new CallGraph(k.Kallsyms(), k.Text(), null, null, null);
    }

    [Fact]
    public void TheCallGraphStartsAtTheTablesEntry()
    {
        var g = Graph("__x64_sys_umount", "__do_sys_umount", "__x64_sys_sendfile64");
        Assert.Equal(["__x64_sys_umount", "__do_sys_umount"], g.EntrySymbols("umount2").Select(s => s.Name));
        Assert.Equal(["__x64_sys_sendfile64"], g.EntrySymbols("sendfile").Select(s => s.Name));
        var opts = new CallGraphOptions { RequireTraceable = false, RequireErrnoReturn = false };
        Assert.Equal(["__x64_sys_umount", "__do_sys_umount"], g.Explore("umount2", opts).EntrySymbols);
    }

    [Fact]
    public void AMissingEntryNamesItsSyscall()
    {
        var g = Graph("__x64_sys_openat");
        var opts = new CallGraphOptions { RequireTraceable = false, RequireErrnoReturn = false };
        var e = Assert.Throws<MissingEntryException>(() => g.Explore("listns", opts));
        Assert.Equal("listns", e.Syscall);
        Assert.Contains("__x64_sys_listns", e.Message);
        var none = Assert.Throws<MissingEntryException>(() => g.Explore("_sysctl", opts));
        Assert.Contains("has no entry function on x86_64", none.Message);
    }
}

/// <summary>
/// The table's entry functions against a real kernel's /proc/kallsyms (the lab's 6.1 and 6.12; also the host,
/// which runs the lab traits' tests too when asked): each one is there, or the call is newer than the kernel.
/// </summary>
[Trait("kernel", "lab")]
public class SyscallEntryKernelTests
{
    /// <summary>When each x86_64 call the table knows but older kernels lack was added (the release that has it first).</summary>
    private static readonly Dictionary<string, (int Major, int Minor)> AddedIn = new()
    {
        ["cachestat"] = (6, 5), ["fchmodat2"] = (6, 6), ["map_shadow_stack"] = (6, 6),
        ["futex_wake"] = (6, 7), ["futex_wait"] = (6, 7), ["futex_requeue"] = (6, 7),
        ["statmount"] = (6, 8), ["listmount"] = (6, 8),
        ["lsm_get_self_attr"] = (6, 8), ["lsm_set_self_attr"] = (6, 8), ["lsm_list_modules"] = (6, 8),
        ["mseal"] = (6, 10), ["uretprobe"] = (6, 11),
        ["setxattrat"] = (6, 13), ["getxattrat"] = (6, 13), ["listxattrat"] = (6, 13), ["removexattrat"] = (6, 13),
        ["open_tree_attr"] = (6, 15), ["uprobe"] = (6, 16), ["file_getattr"] = (6, 17), ["file_setattr"] = (6, 17),
        ["listns"] = (6, 19),
    };

    [Fact]
    public void EveryEntryResolvesOrIsNewerThanThisKernel()
    {
        var kallsyms = Kallsyms.Load();
        var release = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        var m = System.Text.RegularExpressions.Regex.Match(release, @"^(\d+)\.(\d+)");
        var running = (int.Parse(m.Groups[1].Value), int.Parse(m.Groups[2].Value));

        var absent = SyscallEntries.Absent(kallsyms.Contains);
        var unexplained = absent.Where(s => !AddedIn.TryGetValue(s.Name, out var v) || v.CompareTo(running) <= 0)
            .Select(s => $"{s.Name} ({s.KernelEntry})").ToList();
        Assert.True(unexplained.Count == 0, $"entry functions missing from {release}'s kallsyms, not explained by a newer call: {string.Join(", ", unexplained)}");
        // The check is not vacuous: the kernel has almost all of them, by the table's names.
        Assert.True(SyscallEntries.WithEntry - absent.Count > 330, $"only {SyscallEntries.WithEntry - absent.Count} entries resolve");
        foreach (var e in new[] { "__x64_sys_umount", "__x64_sys_sendfile64", "__x64_sys_newstat", "__x64_sys_openat" })
            Assert.True(kallsyms.Contains(e), e);
    }
}
