using Xunit;
using static Whyfail.Tests.Decoding.Kit;

namespace Whyfail.Tests.Decoding;

public class MemoryDecoderTests
{
    [Fact]
    public void NumaPolicies()
    {
        // As strace 6.1 prints them for its tests/set_mempolicy.c and mbind.c.
        Assert.Equal("set_mempolicy(MPOL_DEFAULT, 0xfacefeedfffffffe, 14627392582107119343)",
            Line(Ev("set_mempolicy", [0, 0xfacefeedfffffffe, 14627392582107119343], -22)));
        Assert.Equal("set_mempolicy(MPOL_BIND|MPOL_F_STATIC_NODES, NULL, 0)", Line(Ev("set_mempolicy", [0x8002, 0, 0], -22)));
        Assert.Equal("set_mempolicy(0xff /* MPOL_??? */, NULL, 0)", Line(Ev("set_mempolicy", [0xff, 0, 0], -22)));
        Assert.Equal("mbind(0xfffffff1fffffff2, 18446744026464911348, MPOL_DEFAULT, 0xfffffff5fffffff6, 18446744039349813240, " +
                     "MPOL_MF_STRICT|MPOL_MF_MOVE|MPOL_MF_MOVE_ALL|0xfffffff8)",
            Line(Ev("mbind", [0xfffffff1fffffff2, 18446744026464911348, 0, 0xfffffff5fffffff6, 18446744039349813240, 0xffffffff], -22)));
    }

    [Fact]
    public void Mmap()
    {
        Assert.Equal("mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)",
            Line(Ev("mmap", [0, 4096, 3, 0x22, ulong.MaxValue, 0], -12)));
        Assert.Equal("mmap(0x7f0000000000, 8192, PROT_READ|PROT_EXEC, MAP_SHARED|MAP_FIXED_NOREPLACE, 3, 0x1000)",
            Line(Ev("mmap", [0x7f0000000000, 8192, 5, 0x100001, 3, 0x1000], -17)));
        Assert.Equal("mmap(NULL, 4096, PROT_READ, MAP_SHARED_VALIDATE|MAP_SYNC, 3, 0)",
            Line(Ev("mmap", [0, 4096, 1, 0x80003, 3, 0], -95)));
        Assert.Equal("mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE|MAP_NORESERVE|MAP_STACK, -1, 0)",
            Line(Ev("mmap", [0, 4096, 0, 0x24002, ulong.MaxValue, 0], -12)));
        Assert.Equal("mmap(NULL, 4096, PROT_READ|0x10, MAP_FILE|MAP_ANONYMOUS, -1, 0)",
            Line(Ev("mmap", [0, 4096, 0x11, 0x20, ulong.MaxValue, 0], -22)));
    }

    [Fact]
    public void HugePageSizes()
    {
        Assert.Equal("MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB|MAP_HUGE_2MB", Raw(Ev("mmap", [0, 0, 0, 0x40022 | (21u << 26), 0, 0], -12))[3]);
        Assert.Equal("MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB|MAP_HUGE_1GB", Raw(Ev("mmap", [0, 0, 0, 0x40022 | (30u << 26), 0, 0], -12))[3]);
        Assert.Equal("MAP_PRIVATE|MAP_HUGETLB|5<<MAP_HUGE_SHIFT", Raw(Ev("mmap", [0, 0, 0, 0x40002 | (5u << 26), 0, 0], -22))[3]);
    }

    [Fact]
    public void Others()
    {
        Assert.Equal("mprotect(0x7f0000, 4096, PROT_NONE)", Line(Ev("mprotect", [0x7f0000, 4096, 0], -12)));
        Assert.Equal("pkey_mprotect(0x7f0000, 4096, PROT_READ, 1)", Line(Ev("pkey_mprotect", [0x7f0000, 4096, 1, 1], -22)));
        Assert.Equal("munmap(0x7f0001, 4096)", Line(Ev("munmap", [0x7f0001, 4096], -22)));
        Assert.Equal("brk(NULL)", Line(Ev("brk", [0], -12)));
        Assert.Equal("madvise(0x7f0000, 4096, MADV_DONTNEED)", Line(Ev("madvise", [0x7f0000, 4096, 4], -22)));
        Assert.Equal("madvise(0x7f0000, 4096, MADV_HUGEPAGE)", Line(Ev("madvise", [0x7f0000, 4096, 14], -22)));
        Assert.Equal("madvise(0x7f0000, 4096, 0x63 /* MADV_??? */)", Line(Ev("madvise", [0x7f0000, 4096, 99], -22)));
        Assert.Equal("mlock(0x7f0000, 4096)", Line(Ev("mlock", [0x7f0000, 4096], -12)));
        Assert.Equal("mlock2(0x7f0000, 4096, MLOCK_ONFAULT)", Line(Ev("mlock2", [0x7f0000, 4096, 1], -12)));
        Assert.Equal("mlockall(MCL_CURRENT|MCL_FUTURE)", Line(Ev("mlockall", [3], -12)));
        Assert.Equal("munlockall()", Line(Ev("munlockall", [], -1)));
        Assert.Equal("mremap(0x1000, 4096, 8192, MREMAP_MAYMOVE)", Line(Ev("mremap", [0x1000, 4096, 8192, 1, 0x5000], -12)));
        Assert.Equal("mremap(0x1000, 4096, 8192, MREMAP_MAYMOVE|MREMAP_FIXED, 0x5000)", Line(Ev("mremap", [0x1000, 4096, 8192, 3, 0x5000], -22)));
        Assert.Equal("msync(0x1000, 4096, MS_SYNC)", Line(Ev("msync", [0x1000, 4096, 4], -12)));
        Assert.Equal("mincore(0x1000, 4096, 0x7ffd0000)", Line(Ev("mincore", [0x1000, 4096, 0x7ffd0000], -12)));
    }
}
