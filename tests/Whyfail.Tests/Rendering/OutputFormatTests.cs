using System.Text.Json;
using Whyfail.Events;
using Whyfail.Rendering;
using Xunit;

namespace Whyfail.Tests.Rendering;

/// <summary>
/// Output formats are chosen by name, and events carry neutral facts that the format writes: evidence fields and
/// the session's names for raw kernel values reach the JSON without the events knowing JSON.
/// </summary>
public class OutputFormatTests
{
    private static JsonElement RenderJson(SyscallEvent ev, IKernelNames? names = null)
    {
        var ms = new MemoryStream();
        using (var r = OutputFormats.Create(OutputFormats.Json, ms, unbuffered: false, new TextLook(false, false, false)))
        {
            if (names != null) r.UseKernelNames(names);
            r.Event(ev);
            r.Flush();
        }
        var line = System.Text.Encoding.UTF8.GetString(ms.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Single();
        return JsonDocument.Parse(line).RootElement;
    }

    private static SyscallEvent Failure() =>
        new() { Pid = 10, Tid = 10, Nr = 165, Syscall = "mount", Ret = -1, KernelRet = -1, Comm = "mount" };

    [Fact]
    public void EvidenceFieldsAreWrittenByTheFormatBetweenKindAndText()
    {
        var ev = Failure();
        ev.Evidence.Add(new CapabilityEvidence(cap: 21, ret: -1, userNsLevel: 1, userNsOwner: 1000, euid: 1000));
        ev.Evidence.Add(new SignalEvidence(sig: 14, senderPid: 77, result: 0, saFlags: SignalEvidence.SA_RESTART));
        var evidence = RenderJson(ev).GetProperty("evidence");

        var cap = evidence[0];
        Assert.Equal(["kind", "capability", "cap", "ret", "euid", "userns_level", "userns_owner", "text"],
            cap.EnumerateObject().Select(p => p.Name));
        Assert.Equal("CAP_SYS_ADMIN", cap.GetProperty("capability").GetString());
        Assert.Equal(21, cap.GetProperty("cap").GetInt32());
        Assert.Equal(1000, cap.GetProperty("userns_owner").GetInt64());
        Assert.Contains("a user namespace at level 1 owned by uid 1000", cap.GetProperty("text").GetString());

        var sig = evidence[1];
        Assert.Equal("signal", sig.GetProperty("kind").GetString());
        Assert.Equal("SIGALRM", sig.GetProperty("signal").GetString());
        Assert.Equal(77, sig.GetProperty("sender_pid").GetInt32());
        Assert.True(sig.GetProperty("sa_restart").GetBoolean());
    }

    private sealed class FixedNames : IKernelNames
    {
        public string Origin(OriginRecord record) => $"fn{record.Function}";
        public string Address(ulong address) => $"sym+0x{address & 0xff:x}";
    }

    [Fact]
    public void RawOriginRecordsAreNamedByTheSessionWhenItCanAndShownAsAddressesOtherwise()
    {
        SyscallEvent Ev() => new()
        {
            Pid = 10, Tid = 10, Nr = 165, Syscall = "mount", Ret = -1, KernelRet = -1, Comm = "mount",
            OriginRecords = [new OriginRecord(3, true, -1, 0x1000, [0xffffffff81000012])],
        };
        var named = RenderJson(Ev(), new FixedNames()).GetProperty("origin_records")[0];
        Assert.Equal("fn3", named.GetProperty("function").GetString());
        Assert.Equal("sym+0x12", named.GetProperty("stack")[0].GetString());

        var raw = RenderJson(Ev()).GetProperty("origin_records")[0];
        Assert.Equal("0x3", raw.GetProperty("function").GetString());
        Assert.Equal("0xffffffff81000012", raw.GetProperty("stack")[0].GetString());
    }

    [Fact]
    public void EveryListedFormatCanBeCreatedAndAnUnknownOneIsRefusedByName()
    {
        foreach (var (name, about) in OutputFormats.All)
        {
            Assert.False(string.IsNullOrWhiteSpace(about));
            using var r = OutputFormats.Create(name, new MemoryStream(), unbuffered: true, new TextLook(false, false, false));
            Assert.NotNull(r);
        }
        var e = Assert.Throws<ArgumentException>(() => OutputFormats.Create("yaml", new MemoryStream(), false, new TextLook(false, false, false)));
        Assert.Contains("unknown output format 'yaml' (known: text, json)", e.Message);
    }
}
