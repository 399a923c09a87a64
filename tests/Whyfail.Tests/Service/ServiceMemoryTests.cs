using System.Runtime.InteropServices;
using System.Text;
using Whyfail.Analysis.Explain;
using Whyfail.Analysis.Verdict;
using Whyfail.Capture;
using Whyfail.Capture.Bpf;
using Whyfail.Events;
using Xunit;

namespace Whyfail.Tests.Service;

/// <summary>
/// What keeps `whyfail --system`'s memory bounded under a flood (issue 21, bench/soak): the verdict's hold has a limit
/// and what it cuts short is counted, rendered failures keep no context in the verdict's history, identical context
/// sections share their objects, and expired explanations are dropped within a window.
/// </summary>
public unsafe class ServiceMemoryTests
{
    private static SyscallEvent Failure(int pid, ulong ts, string path, FailureContext? context = null) => new()
    {
        Pid = pid, Tid = pid, Comm = "wf-soak", Nr = 257, Ret = -2, KernelRet = -2, TimestampNs = ts,
        Args = [unchecked((ulong)-100), 0x1000, 0, 0, 0, 0],
        Syscall = "openat", DecodedArgs = ["AT_FDCWD", $"\"{path}\"", "O_RDONLY"],
        Context = context,
    };

    [Fact]
    public void TheHoldHasALimitAndWhatItCutsShortIsCounted()
    {
        var released = new List<SyscallEvent>();
        var tracker = new FailureTracker(released.Add, _ => { }, launcherPid: null, maxHeld: 10);
        for (int i = 0; i < 50; i++) tracker.Add(Failure(100, (ulong)i, $"/missing/{i}"), show: true);
        // Held for 1 s unless more than 10 wait: the 40 beyond the limit went out at once, oldest first, and were counted.
        // (Only a pause of over a second between two of these calls could release one by its time instead.)
        Assert.InRange(released.Count, 40, 50);
        Assert.InRange(tracker.JudgedEarly, 1, 40);
        Assert.Equal(Enumerable.Range(0, released.Count).Select(i => $"\"/missing/{i}\""), released.Select(e => e.DecodedArgs[1]));
        tracker.Finish(0);
        Assert.Equal(50, released.Count); // nothing lost: the end of the session hands on the rest (not counted as early)
        Assert.InRange(tracker.JudgedEarly, 1, 40);
    }

    [Fact]
    public void ACommandSessionHoldsUpToTheLargerLimit()
    {
        var released = new List<SyscallEvent>();
        var tracker = new FailureTracker(released.Add, _ => { }, launcherPid: null);
        for (int i = 0; i < 2 * FailureTracker.MaxHeldService; i++) tracker.Add(Failure(100, (ulong)i, "/missing/x"), show: true);
        Assert.Equal(0, tracker.JudgedEarly);
        tracker.Finish(0);
        Assert.Equal(2 * FailureTracker.MaxHeldService, released.Count);
        Assert.Equal(0, tracker.JudgedEarly);
    }

    [Fact]
    public void ARenderedFailureKeepsWhatTheVerdictReadsButNotItsContext()
    {
        var context = new FailureContext { Uid = 1000, Cwd = null };
        bool hadContextWhenRendered = false;
        var tracker = new FailureTracker(ev => hadContextWhenRendered = ev.Context != null, _ => { }, launcherPid: null, maxHeld: 0);
        var ev = Failure(100, 1, "/missing/a", context);
        tracker.Add(ev, show: true);
        Assert.True(hadContextWhenRendered); // the renderer saw the whole event
        Assert.Null(ev.Context);              // the history keeps the call, its arguments and errno
        Assert.Equal("openat", ev.Syscall);
        Assert.Equal("\"/missing/a\"", ev.DecodedArgs[1]);
        Assert.Equal(2, ev.Errno);
    }

    [Fact]
    public void ExpiredExplanationsAreDroppedWithinAWindowBelowCapacity()
    {
        var r = new ExplanationReuse();
        for (int i = 0; i < 100; i++)
        {
            var ev = Failure(7, (ulong)i, $"/x{i}");
            r.Keep(ev, r.Key(ev)!, 0);
        }
        Assert.Equal(100, r.Count);
        // Two windows later one more failure: the 100 expired ones go, although the cache is far from full.
        var late = Failure(7, 2 * ExplanationReuse.Window + 100, "/late");
        r.Keep(late, r.Key(late)!, 0);
        Assert.Equal(1, r.Count);
        Assert.True(r.TryReuse(Failure(7, 2 * ExplanationReuse.Window + 200, "/late"), r.Key(Failure(7, 0, "/late"))!, out _));
    }

    private static readonly byte[]?[] Kept = new byte[16][];

    [Fact]
    public void ThePacerCollectsTheWholeHeapOnceEnoughWasAllocated()
    {
        var pacer = new Whyfail.Tracing.HeapPacer();
        int fullBefore = GC.CollectionCount(2);
        pacer.Step();
        Assert.Equal(0, pacer.Collections.Full); // nothing allocated yet: nothing to do
        var last = Kept; // stored where the JIT cannot see their end, so that they are really on the heap
        for (long done = 0; done < Whyfail.Tracing.HeapPacer.MinFullBytes + (1 << 20); done += 1024)
            last[(done >> 10) & 15] = new byte[1024 - 24]; // garbage, as a flood's events become
        pacer.Step();
        Assert.NotNull(last[0]);
        Assert.Equal(1, pacer.Collections.Full);
        Assert.True(GC.CollectionCount(2) > fullBefore);
        pacer.Step();
        Assert.Equal(1, pacer.Collections.Full); // and not again until as much more was allocated
    }

    [Fact]
    public void SearchesOfProcessesGoneQuietAreForgottenWithinAWindow()
    {
        var rule = new Whyfail.Analysis.Explain.Rules.PathSearch();
        SyscallEvent Miss(int pid, ulong ts) => new()
        {
            Pid = pid, Tid = pid, Nr = 257, Ret = -2, KernelRet = -2, TimestampNs = ts, Syscall = "openat",
            Args = [unchecked((ulong)-100), 0x1000, 0, 0, 0, 0], DecodedArgs = ["AT_FDCWD", "\"/nonexistent-wf/x\"", "O_RDONLY"],
            Captured = [new CapturedArg(1, CaptureKind.String, 0, Encoding.UTF8.GetBytes("/nonexistent-wf/x"), 17)],
        };
        // A new process every 100 ms of event time, each with one miss, as under --system: only the last ~2 s stay.
        for (int i = 0; i < 200; i++)
        {
            var ev = Miss(1000 + i, 1_000_000_000UL + (ulong)i * 100_000_000);
            if (rule.AppliesTo(ev)) _ = rule.Explain(ev, new Whyfail.Analysis.Explain.ProcessView(ev)).ToList();
        }
        Assert.InRange(rule.ProcessesKept, 1, 45);
    }

    /// <summary>A wf_context section as on_sys_exit writes it, with the given limits and a cwd record.</summary>
    private static byte[] ContextSection(ulong nofile, string cwd)
    {
        var names = Encoding.UTF8.GetBytes(cwd + "\0");
        int namesPadded = (names.Length + 7) & ~7;
        var bytes = new byte[WfContext.SizeOf + WfCtxFile.SizeOf + namesPadded];
        var c = new WfContext { Size = (uint)bytes.Length, NFiles = 1, Uid = 1000, Ngroups = 2 };
        c.Groups[0] = 10;
        c.Groups[1] = 20;
        for (int k = 0; k < WfContext.Layout.RlimCurCount; k++) { c.RlimCur[k] = ulong.MaxValue; c.RlimMax[k] = ulong.MaxValue; }
        c.RlimCur[0] = nofile;
        MemoryMarshal.Write(bytes, in c);
        var f = new WfCtxFile { Fd = WfConst.CtxFdCwd, Arg = 0xff, Flags = 1, Mode = 0x4000 | 0x1ed, NamesLen = (uint)names.Length, Ino = 42 };
        MemoryMarshal.Write(bytes.AsSpan(WfContext.SizeOf), in f);
        names.CopyTo(bytes, WfContext.SizeOf + WfCtxFile.SizeOf);
        return bytes;
    }

    [Fact]
    public void IdenticalContextSectionsShareTheirLimitsGroupsAndFiles()
    {
        var a = ContextParser.Parse(ContextSection(1024, "srv"))!;
        var b = ContextParser.Parse(ContextSection(1024, "srv"))!;
        Assert.Same(a.Limits, b.Limits);
        Assert.Same(a.Groups, b.Groups);
        Assert.Same(a.Cwd, b.Cwd);
        Assert.Equal([10u, 20u], b.Groups);
        Assert.Equal("/srv", b.Cwd!.Path);
        Assert.Equal((1024UL, (ulong?)null), b.Limits[FailureContext.LimitNames[0]]);

        // Anything different is parsed anew, with its own values.
        var c = ContextParser.Parse(ContextSection(4096, "tmp"))!;
        Assert.NotSame(a.Limits, c.Limits);
        Assert.Equal((4096UL, (ulong?)null), c.Limits[FailureContext.LimitNames[0]]);
        Assert.Equal("/tmp", c.Cwd!.Path);
        Assert.Equal((1024UL, (ulong?)null), a.Limits[FailureContext.LimitNames[0]]); // the earlier one is unchanged
    }
}

/// <summary>The JSON writer's per-event shortcuts (issue 16: the consumer's cost per event) give the same bytes as the long way.</summary>
public class JsonShortcutTests
{
    [Fact]
    public unsafe void TheVectorisedSearchFindsWhatEachCharacterWouldBeEncodedFor()
    {
        var enc = Whyfail.Rendering.JsonEscaping.Instance;
        for (int c = 0; c <= 0xffff; c++)
        {
            char ch = (char)c;
            bool expected = enc.WillEncode(c);
            Assert.Equal(expected ? 0 : -1, enc.FindFirstCharacterToEncode(&ch, 1));
            if (c < 0x100)
                Assert.Equal(c >= 0x80 || expected ? 0 : -1, enc.FindFirstCharacterToEncodeUtf8([(byte)c]));
        }
        string s = "abc/def ghi\"x";
        fixed (char* p = s) Assert.Equal(s.IndexOf('"'), enc.FindFirstCharacterToEncode(p, s.Length));
    }

    private static string Line(FailureContext context, int pid)
    {
        var ms = new MemoryStream();
        using (var r = new Whyfail.Rendering.JsonRenderer(ms))
        {
            r.Event(new SyscallEvent
            {
                Pid = pid, Tid = pid, Comm = "t", Nr = 257, Ret = -2, KernelRet = -2, Syscall = "openat",
                DecodedArgs = ["AT_FDCWD", "\"/x\"", "O_RDONLY"], Context = context,
            });
            r.Flush();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    [Fact]
    public void AnEqualContextIsWrittenAsTheSameJsonAndADifferentOneAfresh()
    {
        var limits = new Dictionary<string, (ulong?, ulong?)> { ["nofile"] = (1024, 4096) };
        var a = new FailureContext { Uid = 1000, Umask = 0x12, Limits = limits };
        var b = a with { }; // equal, another object
        var c = a with { Uid = 0 };
        string la = Line(a, 1), lb = Line(b, 1), lc = Line(c, 1);
        Assert.Equal(la, lb);
        Assert.NotEqual(la, lc);
        var ctx = System.Text.Json.JsonDocument.Parse(lc).RootElement.GetProperty("context");
        Assert.Equal(0, ctx.GetProperty("uids")[0].GetInt32());
        Assert.Equal("0022", ctx.GetProperty("umask").GetString());
        Assert.Equal(4096UL, ctx.GetProperty("limits").GetProperty("nofile").GetProperty("hard").GetUInt64());
        Assert.Equal(1000, System.Text.Json.JsonDocument.Parse(la).RootElement.GetProperty("context").GetProperty("uids")[0].GetInt32());
    }
}
