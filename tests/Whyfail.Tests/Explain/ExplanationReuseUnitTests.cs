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

    /// <summary>A repeat as the capture makes it: the same decoded strings and context objects as the call before.</summary>
    private static SyscallEvent Repeat(ulong ts, IReadOnlyList<string> args, FailureContext context, int pid = 7) => new()
    {
        TimestampNs = ts, Pid = pid, Tid = pid, Nr = 257, Ret = -2, KernelRet = -2, Comm = "t", DecodedArgs = args, Context = context,
    };

    [Fact]
    public void ARepeatsKeyIsTheKeyTheLongWayMakes()
    {
        // The key of a failure whose parts are the objects of a recent one is that one's, without building it again: the
        // same string as a fresh ExplanationReuse builds, for each of four failures that take turns, and a change of any
        // part (here the context, a value, the process) is keyed afresh.
        IReadOnlyList<string> args = ["AT_FDCWD", "\"/x\"", "O_RDONLY"];
        var contexts = Enumerable.Range(0, 4).Select(i => new FailureContext { Uid = 1000, Umask = (uint)i }).ToArray();
        var r = new ExplanationReuse();
        for (int round = 0; round < 3; round++)
            for (int i = 0; i < contexts.Length; i++)
            {
                var ev = Repeat((ulong)(round * 10 + i), args, contexts[i]);
                string key = r.Key(ev)!;
                Assert.Equal(new ExplanationReuse().Key(ev), key);
                if (round > 0) Assert.Same(r.Key(Repeat(99, args, contexts[i])), key); // known: the same object
            }
        var other = contexts[0] with { Umask = 7 };
        Assert.NotEqual(r.Key(Repeat(1, args, contexts[0])), r.Key(Repeat(1, args, other)));
        Assert.NotEqual(r.Key(Repeat(1, args, contexts[0])), r.Key(Repeat(1, args, contexts[0], pid: 8)));
        var withEvidence = Repeat(1, args, contexts[0]);
        withEvidence.Evidence.Add(new CapabilityEvidence(cap: 21, ret: -1, userNsLevel: 0, userNsOwner: 0, euid: 1000));
        Assert.NotEqual(r.Key(Repeat(1, args, contexts[0])), r.Key(withEvidence));
    }

    [Fact]
    public void AnotherNetworkNamespaceIsNeverIdentical()
    {
        // The rules read sockets in the failure's network namespace (a gone process's, its connect's for an error
        // delivered as data): a refusal in one namespace explains nothing about another.
        IReadOnlyList<string> args = ["3", "{sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr(\"127.0.0.1\")}", "16"];
        var r = new ExplanationReuse();
        var inHost = new FailureContext { Uid = 1000, NetNs = 4026531840 };
        Assert.NotEqual(r.Key(Repeat(1, args, inHost)), r.Key(Repeat(1, args, inHost with { NetNs = 4026532999 })));
        byte[] peer = [2, 0, 0, 80, 127, 0, 0, 1];
        SyscallEvent SoError(uint ns) => new()
        {
            TimestampNs = 1, Pid = 7, Tid = 7, Nr = 55, Ret = -111, KernelRet = 0, ErrorAsData = true, Comm = "t",
            DecodedArgs = args, ConnectedTo = peer, ConnectedNetNs = ns,
        };
        Assert.NotEqual(r.Key(SoError(4026531840)), r.Key(SoError(4026532999)));
        Assert.Equal(r.Key(SoError(4026531840)), new ExplanationReuse().Key(SoError(4026531840)));
    }

    [Fact]
    public void AHitRememberedForAKeyIsDroppedWhenTheKeptExplanationsChange()
    {
        IReadOnlyList<string> args = ["\"/x\""];
        var context = new FailureContext { Uid = 1000 };
        var r = new ExplanationReuse();
        var first = Repeat(1_000, args, context);
        string key = r.Key(first)!;
        first.Explanation.Add(new Explanation("path.missing_component", "\"/x\" does not exist"));
        r.Keep(first, key, 0);
        var again = Repeat(2_000, args, context);
        Assert.True(r.TryReuse(again, r.Key(again)!, out _)); // looked up, and remembered
        // Expired: the entry goes, and the remembered hit with it (the next repeat is not given the old explanation).
        var late = Repeat(3_000 + ExplanationReuse.Window, args, context);
        Assert.False(r.TryReuse(late, r.Key(late)!, out bool expired));
        Assert.True(expired);
        Assert.False(r.TryReuse(Repeat(3_001 + ExplanationReuse.Window, args, context), key, out expired));
        Assert.False(expired); // gone, not expired again
        // Kept anew: the new explanation is the one reused.
        var fresh = Repeat(4_000 + ExplanationReuse.Window, args, context);
        fresh.Explanation.Add(new Explanation("path.missing_component", "\"/x\" does not exist (again)"));
        r.Keep(fresh, key, 0);
        var next = Repeat(4_001 + ExplanationReuse.Window, args, context);
        Assert.True(r.TryReuse(next, r.Key(next)!, out _));
        Assert.Equal("\"/x\" does not exist (again)", Assert.Single(next.Explanation).Text);
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
