using System.Reflection;
using System.Text;
using Whyfail.Events;
using Whyfail.Rendering;
using Xunit;

namespace Whyfail.Tests.Rendering;

/// <summary>
/// The JSON renderer writes a repeat of the last event (a flood of one failure) as its time, pid and tid plus the bytes
/// of the previous line's rest (<see cref="RepeatedLine"/>). Every field of an event is changed in turn, after an event
/// whose line was kept: the line must be the one a fresh renderer writes for that event alone, byte for byte.
/// </summary>
public class RepeatedLineTests
{
    private static readonly IReadOnlyList<string> Decoded = ["AT_FDCWD", "\"/nonexistent/missing\"", "O_RDONLY"];
    private static readonly FailureContext Context = new()
    {
        Uid = 1000, Euid = 1000, Umask = 0x12, MaxFds = 1024,
        Limits = new Dictionary<string, (ulong?, ulong?)> { ["Max open files"] = (1024, 4096) },
        Cwd = new ContextFile(ContextFile.CwdFd, -1, ContextFileFlags.Open, 0x41ed, 0, 0xfe00000, 26, 2, 0, "ext4", ["tmp"]),
    };
    private static readonly CgroupInfo Cgroup = new("/system.slice/x.service", Service: "x.service");
    private static readonly Routine Routine = new("probe", "optional files", "a file read only if it is there");

    /// <summary>The flood's event: everything a plain failure has, as the capture and the verdict share it.</summary>
    private static SyscallEvent Event(ulong ts = 1_000, int pid = 10, int tid = 11, string comm = "loop", uint uid = 1000, uint euid = 1000,
        int nr = 257, long kernelRet = -2, ulong[]? args = null, bool captureTruncated = false, bool evidenceLost = false,
        ulong cgroupId = 77, bool followUp = false, FailureContext? context = null, UringCompletion? uring = null, bool gid = false,
        IReadOnlyList<CapturedArg>? captured = null, int originDropped = 0, IReadOnlyList<SiteHit>? siteHits = null,
        IReadOnlyList<OriginRecord>? originRecords = null) => new()
    {
        TimestampNs = ts, Pid = pid, Tid = tid, Comm = comm, Uid = uid, Euid = euid, Gid = gid ? 5u : 100u, Egid = 100, Nr = nr,
        Ret = -2, KernelRet = kernelRet, Args = args ?? [unchecked((ulong)-100), 0x4000, 0, 0, 0, 0], CaptureTruncated = captureTruncated,
        EvidenceLost = evidenceLost, CgroupId = cgroupId, FollowUp = followUp, Context = context ?? Context, Uring = uring,
        Captured = captured ?? [], OriginDropped = originDropped, SiteHits = siteHits ?? [], OriginRecords = originRecords ?? [],
        Syscall = "openat", DecodedArgs = Decoded, Cgroup = Cgroup, Routine = Routine,
    };

    /// <summary>One event per field, differing from <see cref="Event"/> in that field only.</summary>
    private static readonly Dictionary<string, Func<SyscallEvent>> Changed = new()
    {
        ["TimestampNs"] = () => Event(ts: 2_000_000_000_123),
        ["Pid"] = () => Event(pid: 4_000_000),
        ["Tid"] = () => Event(tid: 12),
        ["Comm"] = () => Event(comm: "other"),
        ["Uid"] = () => Event(uid: 0),
        ["Euid"] = () => Event(euid: 0),
        ["Nr"] = () => Event(nr: 2),
        ["Ret"] = () => Set(e => e.Ret = -13),
        ["KernelRet"] = () => Event(kernelRet: -512),
        ["Args"] = () => Event(args: [unchecked((ulong)-100), 0x4000, 0, 0, 0, 1]),
        ["CaptureTruncated"] = () => Event(captureTruncated: true),
        ["EvidenceLost"] = () => Event(evidenceLost: true),
        ["CgroupId"] = () => Event(cgroupId: 78),
        ["Cgroup"] = () => Set(e => e.Cgroup = new CgroupInfo("/other")),
        ["FollowUp"] = () => Event(followUp: true),
        ["ErrorAsData"] = () => Set(e => e.ErrorAsData = true),
        ["Context"] = () => Event(context: Context with { Umask = 0x3f }),
        ["Syscall"] = () => Set(e => e.Syscall = "open"),
        ["DecodedArgs"] = () => Set(e => e.DecodedArgs = ["AT_FDCWD", "\"/nonexistent/other\"", "O_RDONLY"]),
        ["Evidence"] = () => Set(e => e.Evidence.Add(new CapabilityEvidence(cap: 21, ret: -1, userNsLevel: 0, userNsOwner: 0, euid: 1000))),
        ["Explanation"] = () => Set(e => e.Explanation.Add(new Explanation("rule", "text"))),
        ["Origin"] = () => Set(e => e.Origin = new Whyfail.Events.Origin { Function = "do_filp_open", Backend = "fexit", Confidence = "high" }),
        ["OriginMissed"] = () => Set(e => e.OriginMissed = OriginMiss.NotWatched),
        ["OriginRecords"] = () => Event(originRecords: [new OriginRecord(0xffffffff81000000, false, -2, 0x1000, [])]),
        ["Routine"] = () => Set(e => e.Routine = new Routine("search", "searches", "found elsewhere")),
        ["Consequence"] = () => Set(e => e.Consequence = new Consequence { Message = "missing: No such file", MessageBy = "loop" }),
        ["InjectedBy"] = () => Set(e => e.InjectedBy = "--inject openat=ENOENT"),
        ["DeniedBy"] = () => Set(e => e.DeniedBy = new Denial(1, 10, 11, 1000, "loop", 1, "deny openat", "file_open", "/x", "/x", 13)),
        ["Uring"] = () => Event(uring: new UringCompletion(18, 7)),
    };

    /// <summary>Fields a syscall line does not write (they reach it through others, or not at all).</summary>
    private static readonly Dictionary<string, Func<SyscallEvent>> NotInTheLine = new()
    {
        ["Gid"] = () => Event(gid: true),
        ["Egid"] = () => Event(gid: true),
        ["Captured"] = () => Event(captured: [new CapturedArg(1, CaptureKind.String, 0, "/x"u8.ToArray(), 2)]), // through DecodedArgs
        ["OriginArgs"] = () => Set(e => e.OriginArgs = [null]), // through Origin.ChainArgs
        ["OriginDropped"] = () => Event(originDropped: 3),
        ["SiteHits"] = () => Event(siteHits: [new SiteHit(1, 2)]), // through Origin
        ["ConnectedTo"] = () => Set(e => e.ConnectedTo = [2, 0, 0, 80, 127, 0, 0, 1]), // through Explanation
        ["ConnectedNetNs"] = () => Set(e => e.ConnectedNetNs = 4026531840), // through Explanation
    };

    private static SyscallEvent Set(Action<SyscallEvent> change)
    {
        var ev = Event();
        change(ev);
        return ev;
    }

    private static string[] Lines(params SyscallEvent[] events) => Lines(out _, events);

    private static string[] Lines(out long repeats, params SyscallEvent[] events)
    {
        var ms = new MemoryStream();
        using (var r = new JsonRenderer(ms))
        {
            foreach (var ev in events) r.Event(ev);
            r.Flush();
            repeats = r.RepeatedLines;
        }
        return Encoding.UTF8.GetString(ms.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    [Fact]
    public void ARepeatIsWrittenFromTheKeptLineAndIsTheSameBytes()
    {
        var lines = Lines(out long repeats, Event(), Event(ts: 5), Event(ts: 18_446_744_073_709_551_615, pid: 1, tid: 2_147_483_647));
        Assert.Equal(2, repeats);
        Assert.Equal(Lines(Event()), lines[..1]);
        Assert.Equal(Lines(Event(ts: 5)), lines[1..2]);
        Assert.Equal(Lines(Event(ts: 18_446_744_073_709_551_615, pid: 1, tid: 2_147_483_647)), lines[2..]);
        var doc = System.Text.Json.JsonDocument.Parse(lines[2]).RootElement;
        Assert.Equal(18_446_744_073_709_551_615UL, doc.GetProperty("ts_ns").GetUInt64());
        Assert.Equal("optional files", doc.GetProperty("routine").GetProperty("label").GetString());
    }

    [Fact]
    public void ARepeatWithTheSameExplanationObjectsIsWrittenFromTheKeptLine()
    {
        // An identical failure's explanation is reused as the same objects (ExplanationReuse): such a line is a repeat too.
        Explanation[] shared = [new("path.missing_component", "\"/nonexistent\" does not exist", "create it"), new("errno", "text", null, false)];
        SyscallEvent Explained(ulong ts, params Explanation[] x) { var ev = Event(ts: ts); ev.Explanation.AddRange(x); return ev; }
        var lines = Lines(out long repeats, Explained(1, shared), Explained(2, shared), Explained(3, shared[0]), Explained(4, shared[0]),
            Explained(5, new Explanation("path.missing_component", "\"/nonexistent\" does not exist", "create it")));
        Assert.Equal(2, repeats); // 2 after 1, 4 after 3; 5 has another object (written the long way, the same bytes)
        Assert.Equal(Lines(Explained(1, shared), Explained(2, shared), Explained(3, shared[0]), Explained(4, shared[0]),
            Explained(5, shared[0])), lines);
        Assert.Equal([.. Lines(Explained(2, shared)), .. Lines(Explained(4, shared[0]))], new[] { lines[1], lines[3] });
    }

    [Fact]
    public void ThreadsThatTakeTurnsEachRepeatTheirOwnLine()
    {
        // Two threads failing alike, each with its own copy of the path (another address in raw_args) and its own context.
        var context2 = Context with { Umask = 0x3f };
        SyscallEvent A(ulong ts) => Event(ts: ts, tid: 11);
        SyscallEvent B(ulong ts) => Event(ts: ts, tid: 12, args: [unchecked((ulong)-100), 0x5000, 0, 0, 0, 0], context: context2);
        var events = new[] { A(1), B(2), A(3), B(4), A(5), B(6) };
        var lines = Lines(out long repeats, events);
        Assert.Equal(4, repeats);
        Assert.Equal(events.SelectMany(e => Lines(e)), lines);
        // More turns than lines kept: each line is written the long way again, and still the same bytes.
        var many = Enumerable.Range(0, 3 * RepeatedLine.Slots).Select(i => Event(ts: (ulong)i, args: [unchecked((ulong)-100), 0x4000, 0, 0, 0, (ulong)(i % (RepeatedLine.Slots + 1))])).ToArray();
        var manyLines = Lines(out repeats, many);
        Assert.Equal(0, repeats);
        Assert.Equal(many.SelectMany(e => Lines(e)), manyLines);
    }

    [Fact]
    public void AnEventThatDiffersInOneFieldIsWrittenAfreshAndTheNextRepeatToo()
    {
        foreach (var (field, make) in Changed)
        {
            var lines = Lines(Event(), make(), Event(), make(), make());
            string plain = Lines(Event()).Single(), changed = Lines(make()).Single();
            Assert.NotEqual(plain, changed); // the field is written: a stale part would show
            Assert.True(lines.Length == 5, field);
            Assert.True(plain == lines[0] && plain == lines[2], $"{field}: the plain event after a change");
            Assert.True(changed == lines[1] && changed == lines[3] && changed == lines[4], $"{field}: {lines[1]}\nexpected {changed}");
        }
    }

    [Fact]
    public void FieldsTheLineDoesNotWriteDoNotChangeIt()
    {
        foreach (var (field, make) in NotInTheLine)
            Assert.True(Lines(Event()).Single() == Lines(Event(), make())[1], field);
    }

    [Fact]
    public void EveryFieldOfAnEventIsCoveredHere()
    {
        // A field added to SyscallEvent (and to the JSON line) must be compared by RepeatedLine: list it above.
        var fields = typeof(SyscallEvent).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite || p.PropertyType.IsGenericType && p.PropertyType.GetGenericTypeDefinition() == typeof(List<>))
            .Select(p => p.Name).ToHashSet();
        var covered = Changed.Keys.Concat(NotInTheLine.Keys).ToHashSet();
        Assert.Empty(fields.Except(covered));
    }
}
