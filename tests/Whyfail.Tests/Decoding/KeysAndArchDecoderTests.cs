using Xunit;
using static Whyfail.Tests.Decoding.Kit;

namespace Whyfail.Tests.Decoding;

/// <summary>add_key/request_key, arch_prctl, and integer arguments at the width the kernel reads them.</summary>
public class KeysAndArchDecoderTests
{
    [Fact]
    public void AddKeyShowsStringsPayloadAndSpecialKeyrings()
    {
        Assert.Equal("add_key(NULL, NULL, NULL, 0, KEY_SPEC_THREAD_KEYRING)",
            Line(Ev("add_key", [0, 0, 0, 0, 0xffffffff], -14)));
        Assert.Equal("add_key(\"user\", \"desc\", \"\", 0, -1234567890)",
            Line(Ev("add_key", [0x1000, 0x2000, 0x3000, 0, unchecked((ulong)-1234567890L)], -14, false,
                Str(0, "user"), Str(1, "desc"), Sized(2, []))));
        Assert.Equal("request_key(\"user\", NULL, NULL, KEY_SPEC_SESSION_KEYRING)",
            Line(Ev("request_key", [0x1000, 0, 0, unchecked((ulong)-3L)], -22, false, Str(0, "user"))));
    }

    [Fact]
    public void ArchPrctlCodesAndAddressInHex()
    {
        Assert.Equal("arch_prctl(ARCH_SET_FS, 0x7f0000001000)", Line(Ev("arch_prctl", [0x1002, 0x7f0000001000], -1)));
        Assert.Equal("arch_prctl(0xffffffff /* ARCH_??? */, 0xfffffffe)", Line(Ev("arch_prctl", [0xffffffff, 0xfffffffe], -22)));
    }

    [Fact]
    public void ModesAreTheSixteenBitsTheKernelReads() =>
        Assert.Equal("creat(\"./x\", 000)", Line(Ev("creat", [0x1000, 0xffffffff00000000], -26, false, Str(0, "./x"))));

    [Fact]
    public void BpfSizeIsAnUnsignedIntAndTheAttributeIsReadByIt()
    {
        // high register bits are not part of the size; size 0: nothing read, the pointer
        Assert.Equal("bpf(BPF_MAP_CREATE, NULL, 256)", Line(Ev("bpf", [0, 0, 0xfacefeed00000100], -14)));
        Assert.Equal("bpf(BPF_MAP_CREATE, 0x1000, 0)", Line(Ev("bpf", [0, 0x1000, 0], -22, false, Sized(1, new byte[48]))));
        // 4 bytes: map_type, the rest is zero as the kernel sees it
        Assert.Equal("bpf(BPF_MAP_CREATE, {map_type=BPF_MAP_TYPE_ARRAY, key_size=0, value_size=0, max_entries=0}, 4)",
            Line(Ev("bpf", [0, 0x1000, 4], -22, false, Sized(1, Le32(2)))));
    }
}
