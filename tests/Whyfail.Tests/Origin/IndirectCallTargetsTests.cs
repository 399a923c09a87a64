using Whyfail.Analysis.Origin.Kernel;
using Xunit;

namespace Whyfail.Tests.Origin;

public class IndirectCallTargetsTests
{
    /// <summary>struct file_operations { ssize_t (*write_iter)(struct kiocb *, struct iov_iter *); int (*fsync)(struct file *, int); }</summary>
    private static IndirectCallTargets Sample()
    {
        var b = new BtfBuilder();
        int i32 = b.Int("int", 4, BtfBuilder.Signed);
        int i64 = b.Int("long", 8, BtfBuilder.Signed);
        int ssize = b.Typedef("ssize_t", i64);
        int kiocb = b.Struct("kiocb", 8), iter = b.Struct("iov_iter", 8), file = b.Struct("file", 8), inode = b.Struct("inode", 8);
        int writeIter = b.FuncProto(ssize, b.Ptr(kiocb), b.Ptr(iter));
        int fsync = b.FuncProto(i32, b.Ptr(file), i32);
        b.Struct("file_operations", ("write_iter", b.Ptr(writeIter)), ("fsync", b.Ptr(b.Const(fsync))));
        // Functions with those prototypes (written apart, as the kernel's BTF has them: the same types, another proto record).
        b.Func("shmem_file_write_iter", b.FuncProto(i64, b.Ptr(kiocb), b.Ptr(iter)));
        b.Func("ext4_file_write_iter", b.FuncProto(ssize, b.Ptr(kiocb), b.Ptr(iter)));
        b.Func("shmem_fsync_like", b.FuncProto(i32, b.Ptr(file), i32));
        // Not an operation: another prototype.
        b.Func("shmem_inode_acct_blocks", b.FuncProto(i32, b.Ptr(inode), i64));
        b.Func("shmem_other_order", b.FuncProto(i32, i32, b.Ptr(file)));
        return new IndirectCallTargets(BtfTypeTable.Parse(b.Build()));
    }

    [Fact]
    public void FunctionsWithAFunctionPointerMembersPrototypeAreTargets()
    {
        var t = Sample();
        Assert.True(t.IsTarget("shmem_file_write_iter"));
        Assert.True(t.IsTarget("ext4_file_write_iter"));
        Assert.True(t.IsTarget("shmem_fsync_like"));
        Assert.False(t.IsTarget("shmem_inode_acct_blocks"));
        Assert.False(t.IsTarget("shmem_other_order"));
        Assert.Equal(3, t.Count);
    }

    [Fact]
    public void TheFailuresFileSystemNarrowsThem()
    {
        var t = Sample();
        Assert.Equal(["shmem_file_write_iter", "shmem_fsync_like"], t.Named(IndirectCallTargets.FsPrefixes("tmpfs", null)));
        Assert.Equal(["ext4_file_write_iter"], t.Named(IndirectCallTargets.FsPrefixes("ext4", null)));
        Assert.Empty(t.Named(IndirectCallTargets.FsPrefixes("sockfs", null)));
        Assert.Equal(["eventfd_"], IndirectCallTargets.FsPrefixes("anon_inodefs", "[eventfd]"));
        Assert.Contains("netlink_", IndirectCallTargets.SocketPrefixes(16));
    }

    [FactRequiringKernelBtf]
    public void OnThisKernelTmpfsWritesReachShmemThroughItsOperations()
    {
        var t = new IndirectCallTargets(BtfTypeTable.Load(BtfReturnTypes.DefaultPath));
        var shmem = t.Named(IndirectCallTargets.FsPrefixes("tmpfs", null));
        Assert.Contains("shmem_write_begin", shmem);   // a_ops->write_begin
        Assert.Contains("shmem_fallocate", shmem);     // f_op->fallocate
        Assert.Contains(t.Named(IndirectCallTargets.FsPrefixes("pipefs", null)), n => n is "pipe_write" or "anon_pipe_write"); // renamed in 6.16
        Assert.All(shmem, n => Assert.StartsWith("shmem_", n));
        Assert.True(shmem.Count < 200, $"{shmem.Count} tmpfs targets");
    }

    /// <summary>
    /// read(2) of a tmpfs directory (the corpus's read_directory): vfs_read calls f_op->read, generic_read_dir for every
    /// directory, which no shmem_ prefix names; setsockopt(SOL_IP, IP_TTL) on a TCP socket (setsockopt_ip_ttl_zero):
    /// sk_prot->setsockopt is tcp_setsockopt, which passes SOL_IP to icsk_af_ops->setsockopt, ip_setsockopt, and on to
    /// do_ip_setsockopt — the socket's family is not in the context, the level says it.
    /// </summary>
    [FactRequiringKernelBtf]
    public void OnThisKernelADirectorysReadAndAnIpLevelOptionReachTheirHandlers()
    {
        var t = new IndirectCallTargets(BtfTypeTable.Load(BtfReturnTypes.DefaultPath));
        const uint dir = 0x41ed, file = 0x81a4; // drwxr-xr-x, -rw-r--r--
        Assert.Equal(["generic_read_dir"], t.Named(IndirectCallTargets.FileTypePrefixes(dir)));
        Assert.Empty(IndirectCallTargets.FileTypePrefixes(file));
        var ip = t.Named(IndirectCallTargets.SocketLevelPrefixes(0));
        Assert.Contains("tcp_setsockopt", ip);
        Assert.Contains("ip_setsockopt", ip);
        Assert.Contains("do_ip_setsockopt", ip);
        Assert.True(ip.Count < 150, $"{ip.Count} SOL_IP targets");
        Assert.Empty(IndirectCallTargets.SocketLevelPrefixes(1)); // SOL_SOCKET: sockfs's own sock_ prefix says it
    }
}

/// <summary>A fact that reads the running kernel's BTF: skipped, with the reason, on a kernel without it.</summary>
public sealed class FactRequiringKernelBtfAttribute : FactAttribute
{
    public FactRequiringKernelBtfAttribute()
    {
        if (!File.Exists(BtfReturnTypes.DefaultPath)) Skip = $"this kernel has no BTF ({BtfReturnTypes.DefaultPath})";
    }
}
