using Whyfail.Decoding;
using Whyfail.Events;
using Xunit;
using static Whyfail.Tests.Decoding.Kit;

namespace Whyfail.Tests.Decoding;

public class RobustnessTests
{
    private static readonly CaptureKind[] Kinds =
        [CaptureKind.String, CaptureKind.Fixed, CaptureKind.Sized, CaptureKind.StringVector, CaptureKind.SizedByPointer];

    private static ulong RandomArg(Random rng) => rng.Next(6) switch
    {
        0 => 0,
        1 => ulong.MaxValue,
        2 => (ulong)rng.Next(0, 64),
        3 => unchecked((ulong)rng.NextInt64()),
        4 => 0x7ffd00000000UL + (ulong)rng.Next(),
        _ => 0xffffffffUL,
    };

    private static byte[]? RandomData(Random rng)
    {
        if (rng.Next(8) == 0) return null;
        var b = new byte[rng.Next(0, 300)];
        rng.NextBytes(b);
        return b;
    }

    private static void AssertTerminalSafe(string s, string context)
    {
        foreach (var ch in s)
            Assert.False(ch < 0x20 || ch is >= '\u007f' and <= '\u009f' or >= '\u202a' and <= '\u202e' or >= '\u2066' and <= '\u2069',
                $"raw U+{(int)ch:X4} in {context}: {s}");
    }

    /// <summary>Every decoder, fed random arguments and captures of random kinds, lengths and validity:
    /// none throws (without the catch-all) and nothing unescaped comes out.</summary>
    [Fact]
    public void NoDecoderThrowsOnAnyCapture()
    {
        var rng = new Random(20240601);
        var nrs = SyscallTable.All.Select(i => i.Nr).Concat([0x1ff, 511, 512, 1000, -1, int.MaxValue]).ToList();
        foreach (var nr in nrs)
        {
            for (int round = 0; round < 40; round++)
            {
                var caps = new List<CapturedArg>();
                for (int i = 0; i < 6; i++)
                {
                    int n = rng.Next(3);
                    for (int k = 0; k < n; k++)
                        caps.Add(new CapturedArg(i, Kinds[rng.Next(Kinds.Length)], rng.Next(10), RandomData(rng), rng.Next(-5, 70000)));
                }
                var ev = new SyscallEvent
                {
                    Nr = nr,
                    Args = Enumerable.Range(0, 6).Select(_ => RandomArg(rng)).ToArray(),
                    Ret = rng.Next(3) == 0 ? rng.Next(0, 100) : -rng.Next(1, 600),
                    CaptureTruncated = rng.Next(2) == 0,
                    Captured = caps,
                };
                string[] args;
                try
                {
                    args = Decoder.DecodeUnguarded(ev, rng.Next(0, 64));
                }
                catch (Exception e)
                {
                    throw new Xunit.Sdk.XunitException($"{SyscallTable.DisplayName(nr)} threw {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
                }
                foreach (var a in args) AssertTerminalSafe(a, SyscallTable.DisplayName(nr));
            }
        }
    }

    [Fact]
    public void ShortArgumentArraysAndNoCaptures()
    {
        foreach (var info in SyscallTable.All)
        {
            var ev = new SyscallEvent { Nr = info.Nr, Args = [], Ret = -22 };
            var args = Decoder.DecodeUnguarded(ev, 32);
            Assert.All(args, a => Assert.False(string.IsNullOrEmpty(a)));
        }
    }

    [Fact]
    public void UnknownNumbersShowSixHexArguments()
    {
        var ev = new SyscallEvent { Nr = 0x1ff, Args = [1, 0, 0xff, 0, 0, ulong.MaxValue], Ret = -38 };
        Assert.Equal(["0x1", "0", "0xff", "0", "0", "0xffffffffffffffff"], Decoder.Decode(ev, 32));
        Assert.Equal("syscall_0x1ff", Decoder.SyscallName(0x1ff));
        Assert.Equal("openat", Decoder.SyscallName(257));
    }

    [Fact]
    public void CallsWithoutASignatureShowSixHexArguments()
    {
        var info = SyscallTable.All.First(i => !i.ArgsKnown);
        var ev = new SyscallEvent { Nr = info.Nr, Args = [1, 2, 3, 4, 5, 6], Ret = -38 };
        Assert.Equal(["0x1", "0x2", "0x3", "0x4", "0x5", "0x6"], Decoder.Decode(ev, 32));
    }

    [Fact]
    public void ArgumentCountFollowsTheSignatureForUndecoratedCalls()
    {
        // sched_yield takes nothing; getcwd two arguments; both use the default notation.
        Assert.Empty(Decoder.Decode(Ev("sched_yield", [1, 2, 3]), 32));
        Assert.Equal("getcwd(0x7ffd0000, 4096)", Line(Ev("getcwd", [0x7ffd0000, 4096], -34)));
    }
}

public class DefaultNotationTests
{
    [Fact]
    public void DeclaredTypesDecideTheNotation()
    {
        // lseek-like signed offsets, size_t counts, pid_t, uid_t, fd names, and pointers
        Assert.Equal("sendfile(1, 3, 0x7ffd0000, 65536)", Line(Ev("sendfile", [1, 3, 0x7ffd0000, 65536], -22)));
        Assert.Equal("getpgid(-5)", Line(Ev("getpgid", [unchecked((ulong)-5L)], -3)));
        Assert.Equal("fsync(-1)", Line(Ev("fsync", [0xffffffff], -9)));
        Assert.Equal("syncfs(3)", Line(Ev("syncfs", [3], -5)));
        Assert.Equal("fchdir(3)", Line(Ev("fchdir", [3], -20)));
        Assert.Equal("vmsplice(3, 0x7ffd0000, 4096, 0x1)", Line(Ev("vmsplice", [3, 0x7ffd0000, 4096, 1], -22)));
    }

    [Fact]
    public void MultiBitFlagsWinOverTheirParts()
    {
        Assert.Equal("O_WRONLY|O_SYNC", Raw(Ev("openat", [AtFdcwd, 0, 0x101001, 0], -22))[2]);
        Assert.Equal("O_WRONLY|O_DSYNC", Raw(Ev("openat", [AtFdcwd, 0, 0x1001, 0], -22))[2]);
    }
}
