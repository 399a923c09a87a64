using Whyfail.Capture;
using Whyfail.Capture.Native;
using Xunit;

namespace Whyfail.Tests.Origin;

/// <summary>
/// The boot-long cache of BTF ids (the fexit probe's one id without a second parse of the kernel's BTF), on the
/// running kernel: what it answers is what libbpf finds in /sys/kernel/btf/vmlinux, and a later start reads it back.
/// </summary>
[Collection("tracing")]
public class BtfIdCacheTests
{
    [Fact]
    public void TheCachedIdIsTheKernelsAndIsReadBack()
    {
        Assert.True(File.Exists(KernelChecks.BtfPath), "no kernel BTF on this machine");
        string? file = BtfIdCache.FileName();
        Assert.True(file != null, "whyfail's tests run as root: the cache directory should be usable");
        File.Delete(file);
        int expected = Libbpf.BtfFindByNameKind(KernelChecks.VmlinuxBtf(), "do_sys_openat2", Libbpf.BTF_KIND_FUNC);
        Assert.True(expected > 0);
        Assert.Equal(expected, BtfIdCache.FunctionId("do_sys_openat2"));
        Assert.Contains($"{Libbpf.BTF_KIND_FUNC}:do_sys_openat2 {expected}", File.ReadAllLines(file));
        // A later start takes the id from the file (a made-up entry shows it is read, not recomputed).
        File.AppendAllLines(file, [$"{Libbpf.BTF_KIND_FUNC}:whyfail_no_such_function 4242"]);
        try
        {
            Assert.Equal(4242, BtfIdCache.FunctionId("whyfail_no_such_function"));
            Assert.Equal(expected, BtfIdCache.FunctionId("do_sys_openat2"));
        }
        finally
        {
            File.Delete(file);
        }
        // A name the kernel does not have is remembered as absent; other kinds are told apart.
        Assert.True(BtfIdCache.FunctionId("whyfail_no_such_function") <= 0);
        Assert.Contains($"{Libbpf.BTF_KIND_FUNC}:whyfail_no_such_function 0", File.ReadAllLines(file));
        Assert.True(BtfIdCache.Id("do_sys_openat2", Libbpf.BTF_KIND_STRUCT) <= 0);
        Assert.True(KernelChecks.HasStruct("task_struct"));
    }
}
