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

    /// <summary>
    /// Tracepoints of a known subsystem are answered from that subsystem's tracefs directory alone, "no" included (kernels
    /// before 6.14 lack capability:cap_capable): the answer must be what the kernel's BTF says (btf_trace_NAME, what tp_btf
    /// attaches to), on the host and in both lab kernels.
    /// </summary>
    [Fact]
    public void ATracepointIsThereExactlyWhenTheKernelsBtfHasIt()
    {
        Assert.True(File.Exists(KernelChecks.BtfPath), "no kernel BTF on this machine");
        foreach (var name in new[] { "sys_enter", "sys_exit", "cap_capable", "signal_generate", "sched_process_exec", "sched_process_exit",
                     "io_uring_complete", "io_uring_submit_req", "io_uring_submit_sqe" })
        {
            bool btf = Libbpf.BtfFindByNameKind(KernelChecks.VmlinuxBtf(), "btf_trace_" + name, Libbpf.BTF_KIND_TYPEDEF) > 0;
            Assert.True(btf == KernelChecks.HasTracepoint(name), $"{name}: the kernel's BTF says {btf}, HasTracepoint the opposite");
        }
    }
}
