using Whyfail.Analysis;
using Whyfail.Analysis.Verdict;
using Whyfail.Events;
using Xunit;

namespace Whyfail.Tests.Decoding;

/// <summary>
/// A flood of one failure is decoded once: the pipeline keeps the decoded arguments of the last call and gives a repeat
/// (the same argument and capture objects, as the capture shares them between equal records) the same list; anything
/// decoding reads that differs (result, arguments, captured memory) is decoded again.
/// </summary>
public class RepeatedCallTests
{
    private static readonly ulong[] OpenArgs = [unchecked((ulong)-100), 0x1000, 0, 0, 0, 0];

    private static SyscallEvent Open(ulong[] args, IReadOnlyList<CapturedArg> captured, long ret = -2) => new()
    {
        Nr = 257, Ret = ret, KernelRet = ret, Pid = 10, Tid = 10, Comm = "t", Args = args, Captured = captured,
    };

    private static IReadOnlyList<CapturedArg> Path(string p)
    {
        var b = System.Text.Encoding.UTF8.GetBytes(p);
        return [new CapturedArg(1, CaptureKind.String, 0, b, b.Length)];
    }

    [Fact]
    public void ARepeatSharesTheDecodingAndADifferentCallIsDecodedAgain()
    {
        var pipeline = new AnalysisPipeline(new AnalysisOptions(Explain: false));
        var captured = Path("/a/missing");
        var first = Open(OpenArgs, captured);
        var again = Open(OpenArgs, captured);
        pipeline.Process(first);
        pipeline.Process(again);
        Assert.Same(first.DecodedArgs, again.DecodedArgs);
        Assert.Equal("\"/a/missing\"", first.DecodedArgs[1]);
        Assert.Same(FailureSubject.Of(first), FailureSubject.Of(again));

        // Another path, equal arguments: decoded again, with its own subject.
        var other = Open(OpenArgs, Path("/b/missing"));
        pipeline.Process(other);
        Assert.Equal("\"/b/missing\"", other.DecodedArgs[1]);
        Assert.Equal("/b/missing", FailureSubject.Of(other).Path);
        Assert.Equal("/a/missing", FailureSubject.Of(first).Path);

        // The same objects with another result: decoded again (decoders read the result).
        var ok = Open(OpenArgs, captured, ret: 3);
        pipeline.Process(ok);
        Assert.NotSame(first.DecodedArgs, ok.DecodedArgs);
        Assert.Equal(first.DecodedArgs, ok.DecodedArgs);
    }
}
