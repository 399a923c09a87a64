using Xunit;
using Whyfail.Analysis.Origin.Kernel;

namespace Whyfail.Tests.Origin;

/// <summary>
/// <see cref="KernelCallees"/> counts every form of indirect call the running kernel's text can hold, on machine code
/// read from the lab guests' /proc/kcore (Debian 6.12.118 and 6.1.0-57 under QEMU/TCG: "Mitigation: Retpolines", so the
/// retpoline calls stay CALL __x86_indirect_thunk_rax), with the guests' own /proc/kallsyms lines at the thunk, where
/// the first thunk shares its address with section markers listed after it.
/// </summary>
public class IndirectCallScanTests
{
    // /proc/kallsyms of the 6.12 guest at the first thunks, in its order.
    private const string Thunks612 = """
        ffffffff81000000 T _text
        ffffffff81cf63a0 T __x86_indirect_thunk_array
        ffffffff81cf63a0 T __x86_indirect_thunk_rax
        ffffffff81cf63a0 T __softirqentry_text_end
        ffffffff81cf63c0 T __x86_indirect_thunk_rcx
        ffffffff81cf65a0 T __x86_indirect_call_thunk_array
        ffffffff81cf65a0 T __x86_indirect_call_thunk_rax
        ffffffff81cf65c0 T __x86_indirect_call_thunk_rcx
        ffffffff81cf67a0 T __x86_indirect_jump_thunk_array
        ffffffff81cf67a0 T __x86_indirect_jump_thunk_rax
        ffffffff81cf67c0 T __x86_indirect_jump_thunk_rcx
        ffffffff81cf6ba0 T __x86_indirect_its_thunk_array
        ffffffff81cf6ba0 T __x86_indirect_its_thunk_rax
        ffffffff81cf6bc0 T __x86_indirect_its_thunk_rcx
        ffffffff81cf6e00 T __x86_return_thunk
        ffffffff81cf6e40 T some_function

        """;

    // The same on the 6.1 guest.
    private const string Thunks61 = """
        ffffffff81000000 T _text
        ffffffff81e01580 T __x86_indirect_thunk_array
        ffffffff81e01580 T __x86_indirect_thunk_rax
        ffffffff81e01580 T __indirect_thunk_start
        ffffffff81e01580 T __static_call_text_end
        ffffffff81e015a0 T __x86_indirect_thunk_rcx

        """;

    // vfs_read of the 6.12 guest (ffffffff81457ce0, 880 bytes): three CALL __x86_indirect_thunk_rax (f_op->read,
    // f_op->read_iter, fsnotify's) and no -EISDIR; read(2) of a directory fails in generic_read_dir behind f_op->read.
    private const string VfsRead612 =
        "660f1f000f1f440000415741564155415455534883ec6065488b04252800000048894424588b470c4189c44183e4010f" +
        "8412030000a9000002000f841303000031c04889d34801f24989cf0f92c04989f648b900f0ffffff7f00004885c07505" +
        "4839d1733148c7c5f2ffffff488b44245865482b0425280000000f85df0200004883c4604889e85b5d415c415d415e41" +
        "5fc3cccccccc4889fe4989fd4889d94c89fa31ffe8f7d9ffff4863e84885ed75bbb800f0ff7f498b75104839c3480f46" +
        "c365488b1d17d4bd7e4889c2488b46184885c00f848d0000004c89f94c89f64c89efe8d9e589004889c54885ed7f0d48" +
        "8383300d000001e970ffffff418b450c25000000063d000000027451498b7d484c8b4f30498b4128488b80b803000048" +
        "85c07439488b40084885c07430410fb701498d7540662500f0663d00400f8484010000483b7f180f848c0100004889f2" +
        "b9010000004489e6e8e35d06004801ab200d0000eb8948837e28000f844a0100004c8d442428b90600000048c7042400" +
        "00000048c7442408000000004c89c7f348ab488b83000d000048c74424100000000048c744241800000000418b4d3448" +
        "c7442420000000004885c00f84a00000000fb7400c66a900e00f849200000048c74424480000000048c7442438000000" +
        "0048c74424400000000048c7442450000000004c896c2428894c2448668944244c4d85ff0f84f0000000498b0748c704" +
        "24000000004c89c748c7442408000000004889442430488b46284889e64c89742410488954241848c744242001000000" +
        "e87be489004889c5483deffdffff0f84f1000000488b442430498907e989feffff8b437083e8644863f8c1f81f4869ff" +
        "6766666648c1ff2129c78b83cc03000083f805746e448d48ff4183f901410f96c183f8060f94c04109c1b80200000045" +
        "0fb6c94429c8c1e00d09f883ff08bf00e0ffff0f43c7e914ffffff48c7c5eaffffffe928feffff41bc01000040f70700" +
        "4000000f856afeffff6a004531c031c9ba010000004489e7e89353060058e96afeffffb803000000ebac488b46284c89" +
        "c74889e648c74424300000000048c704240000000048c7442408000000004c89742410488954241848c7442420010000" +
        "00e88ae389004889c5483deffdffff0f85a5fdffff0f0b48c7c5f7ffffffe919fdffff48c7c5eaffffffe90dfdffffe8" +
        "bcf5880066662e0f1f84000000000090";

    // sock_common_setsockopt of the 6.12 guest (ffffffff81a42430, 32 bytes): a tail call JMP __x86_indirect_thunk_rax
    // to sk->sk_prot->setsockopt.
    private const string SockCommonSetsockopt612 = "f30f1efa0f1f44000055488b7f18488b47284889e55d488b4048e9513f2b00cc";

    // inet_accept of the 6.1 guest (ffffffff818cb460, 160 bytes): "int err = -EINVAL" then CALL
    // __x86_indirect_thunk_rax to sk->sk_prot->accept, which sets err (inet_csk_accept on a socket not listening).
    private const string InetAccept61 =
        "0f1f44000041540fb6c94989f489d6554889fd534883ec10488b7f1865488b042528000000488944240831c0488d5424" +
        "04c7442404eaffffff488b4728488b4020e8da6053004885c074424889c34889c731f6e858cbeeff4889da4c89e64889" +
        "efe87afeffff4889dfe882cdeeff31c0488b54240865482b14252800000075134883c4105b5d415cc3cccccccc8b4424" +
        "04ebdde8f8d117000f1f840000000000";

    private static (Kallsyms, ArrayText) Kernel(string thunks, string function, ulong address, string hex)
    {
        var bytes = Convert.FromHexString(hex);
        var symbols = Kallsyms.Parse(thunks + $"{address:x16} t {function}\n{address + (ulong)bytes.Length:x16} t next_function\n");
        return (symbols, new ArrayText(address, bytes));
    }

    [Fact]
    public void RetpolineCallsIntoTheFirstThunkCountAlthoughASectionMarkerSharesItsAddress()
    {
        var (symbols, text) = Kernel(Thunks612, "vfs_read", 0xffffffff81457ce0, VfsRead612);
        // What made vfs_read "high" in the corpus: the symbol covering the thunk is a section marker.
        Assert.True(symbols.TryFind(0xffffffff81cf63a0, out var covering));
        Assert.Equal("__softirqentry_text_end", covering.Name);
        using var callees = new KernelCallees(symbols, () => text);
        var facts = callees.Of("vfs_read", 21)!; // EISDIR
        Assert.Equal(3, facts.Indirect);
        Assert.False(facts.MakesErrno);
        Assert.DoesNotContain("__softirqentry_text_end", facts.Direct);
    }

    [Fact]
    public void ATailJumpIntoTheRetpolineThunkIsAnIndirectCall()
    {
        var (symbols, text) = Kernel(Thunks612, "sock_common_setsockopt", 0xffffffff81a42430, SockCommonSetsockopt612);
        using var callees = new KernelCallees(symbols, () => text);
        var facts = callees.Of("sock_common_setsockopt", 22)!;
        Assert.Equal(1, facts.Indirect);
        Assert.Empty(facts.Direct);
        Assert.False(facts.MakesErrno);
    }

    [Fact]
    public void OnSixOneTheThunkSharesItsAddressWithTwoMarkers()
    {
        var (symbols, text) = Kernel(Thunks61, "inet_accept", 0xffffffff818cb460, InetAccept61);
        Assert.True(symbols.TryFind(0xffffffff81e01580, out var covering));
        Assert.Equal("__static_call_text_end", covering.Name);
        using var callees = new KernelCallees(symbols, () => text);
        var facts = callees.Of("inet_accept", 22)!;
        Assert.Equal(1, facts.Indirect);
        Assert.True(facts.MakesErrno); // err = -EINVAL before the call: made there, but maybe passed on from the callee
    }

    [Theory]
    [InlineData("ff d0", "CALL rax (retpolines patched away)")]
    [InlineData("0f ae e8 ff d0", "LFENCE; CALL rax (retpoline=lfence)")]
    [InlineData("ff 50 48", "CALL [rax+0x48]")]
    [InlineData("ff 15 00 10 00 00", "CALL [rip+0x1000]")]
    [InlineData("41 ff d3", "CALL r11")]
    [InlineData("ff e0", "JMP rax (a tail call)")]
    [InlineData("e8 @thunk_rcx", "CALL __x86_indirect_thunk_rcx")]
    [InlineData("e8 @its_rax", "CALL __x86_indirect_its_thunk_rax (aliased by the array)")]
    [InlineData("e8 @its_rcx", "CALL __x86_indirect_its_thunk_rcx")]
    [InlineData("e8 @call_rax", "CALL __x86_indirect_call_thunk_rax (call depth tracking)")]
    [InlineData("e9 @jump_rax", "JMP __x86_indirect_jump_thunk_rax (call depth tracking)")]
    [InlineData("e9 @thunk_rax", "JMP __x86_indirect_thunk_rax")]
    public void EachIndirectCallFormCounts(string code, string form)
    {
        var targets = new Dictionary<string, ulong>
        {
            ["@thunk_rax"] = 0xffffffff81cf63a0, ["@thunk_rcx"] = 0xffffffff81cf63c0, ["@call_rax"] = 0xffffffff81cf65a0,
            ["@jump_rax"] = 0xffffffff81cf67a0, ["@its_rax"] = 0xffffffff81cf6ba0, ["@its_rcx"] = 0xffffffff81cf6bc0,
        };
        const ulong at = 0xffffffff81400000;
        var bytes = new List<byte> { 0xf3, 0x0f, 0x1e, 0xfa }; // endbr64
        foreach (var part in code.Split(' '))
        {
            if (targets.TryGetValue(part, out ulong target))
            {
                int rel = checked((int)(long)(target - (at + (ulong)bytes.Count + 4)));
                bytes.AddRange(BitConverter.GetBytes(rel));
            }
            else bytes.Add(Convert.ToByte(part, 16));
        }
        bytes.Add(0xc3); // ret
        var (symbols, text) = Kernel(Thunks612, "caller", at, Convert.ToHexString(bytes.ToArray()));
        using var callees = new KernelCallees(symbols, () => text);
        var facts = callees.Of("caller", 22)!;
        Assert.True(facts.Indirect == 1, $"{form}: {facts.Indirect} indirect calls counted");
        Assert.Empty(facts.Direct);
    }

    [Fact]
    public void ReturnThunksAndOrdinaryFunctionsAreNotIndirectThunks()
    {
        var symbols = Kallsyms.Parse(Thunks612);
        Assert.True(symbols.IsIndirectThunk(0xffffffff81cf63a0));
        Assert.True(symbols.IsIndirectThunk(0xffffffff81cf63a8)); // inside the rax thunk
        Assert.True(symbols.IsIndirectThunk(0xffffffff81cf6bc0));
        Assert.False(symbols.IsIndirectThunk(0xffffffff81cf6e00)); // __x86_return_thunk: a return, not a call
        Assert.False(symbols.IsIndirectThunk(0xffffffff81000010)); // _text
        Assert.True(Kallsyms.Parse(Thunks61).IsIndirectThunk(0xffffffff81e01580));
    }
}
