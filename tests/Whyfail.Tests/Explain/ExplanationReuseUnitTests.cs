using Whyfail.Analysis.Explain;
using Whyfail.Events;
using Xunit;

namespace Whyfail.Tests.Explain;

/// <summary>What makes two failures identical for <see cref="ExplanationReuse"/>.</summary>
public class ExplanationReuseUnitTests
{
    private static SyscallEvent Ev(ulong ts, params string[] args) => new()
    {
        TimestampNs = ts, Pid = 7, Tid = 7, Nr = 202, Ret = -110, KernelRet = -110, Comm = "t", DecodedArgs = args,
    };

    [Fact]
    public void AddressesAreMaskedButValuesAreNot()
    {
        var r = new ExplanationReuse();
        string a = r.Key(Ev(1, "0x7ff5786a00a8", "FUTEX_WAIT", "3"))!;
        Assert.Equal(a, r.Key(Ev(2, "0x7ff5786b1234", "FUTEX_WAIT", "3")));
        Assert.NotEqual(a, r.Key(Ev(3, "0x7ff5786a00a8", "FUTEX_WAIT", "4")));
        // Short hexadecimal values are flags or sizes, not addresses: they count.
        Assert.NotEqual(r.Key(Ev(1, "0x10")), r.Key(Ev(1, "0x20")));
        // A descriptor number is a value.
        Assert.NotEqual(r.Key(Ev(1, "5", "0x7ff5786a00a8")), r.Key(Ev(1, "6", "0x7ff5786a00a8")));
    }

    [Fact]
    public void ReuseHoldsWithinTheWindowOnly()
    {
        var r = new ExplanationReuse();
        var first = Ev(1_000, "\"/x\"");
        string key = r.Key(first)!;
        first.Explanation.Add(new Explanation("path.missing_component", "\"/x\" does not exist"));
        r.Keep(first, key, 0);

        var soon = Ev(1_000 + ExplanationReuse.Window, "\"/x\"");
        Assert.True(r.TryReuse(soon, r.Key(soon)!, out _));
        Assert.Equal("path.missing_component", Assert.Single(soon.Explanation).Rule);

        var late = Ev(2_000 + ExplanationReuse.Window, "\"/x\"");
        Assert.False(r.TryReuse(late, r.Key(late)!, out bool expired));
        Assert.True(expired);
        Assert.Empty(late.Explanation);
        Assert.Equal(1, r.Reused);
    }

    [Fact]
    public void AnotherProcessOrErrnoIsNeverIdentical()
    {
        var r = new ExplanationReuse();
        var a = Ev(1, "\"/x\"");
        var otherPid = new SyscallEvent { TimestampNs = 1, Pid = 8, Tid = 8, Nr = 202, Ret = -110, KernelRet = -110, DecodedArgs = ["\"/x\""] };
        var otherErrno = new SyscallEvent { TimestampNs = 1, Pid = 7, Tid = 7, Nr = 202, Ret = -11, KernelRet = -11, DecodedArgs = ["\"/x\""] };
        Assert.NotEqual(r.Key(a), r.Key(otherPid));
        Assert.NotEqual(r.Key(a), r.Key(otherErrno));
        Assert.Null(r.Key(new SyscallEvent { Pid = 7, Nr = 202, Ret = 0 }));
    }

    [Fact]
    public void MemoryIsBounded()
    {
        var r = new ExplanationReuse();
        for (int i = 0; i < ExplanationReuse.Capacity * 3; i++)
        {
            var ev = Ev((ulong)i, $"\"/x{i}\"");
            r.Keep(ev, r.Key(ev)!, 0);
        }
        Assert.True(r.Count <= ExplanationReuse.Capacity, $"{r.Count} kept");
    }
}
