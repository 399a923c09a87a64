using System.Text;
using System.Text.Json;
using Whyfail.Analysis.Evidence;
using Xunit;

namespace Whyfail.Tests.Lsm;

/// <summary>
/// Landlock's audit records joined into one denial. The lines are the ones the host's 6.18 kernel sent on the audit
/// log's multicast group for tests/programs/landlock_deny (audit enabled, the task with an audit context):
/// LANDLOCK_ACCESS, then LANDLOCK_DOMAIN (first denial of the domain), SYSCALL and EOE, all with the event's serial.
/// </summary>
public class LandlockRecordTests
{
    private const string Access = "audit(1795537176.520:2): domain=18cb8509c blockers=fs.read_file path=\"/tmp/ll/secret.txt\" dev=\"vda\" ino=11666237";
    private const string Domain = "audit(1795537176.520:2): domain=18cb8509c status=allocated mode=enforcing pid=25601 uid=0 exe=\"/tmp/ll/landlock_deny\" comm=\"landlock_deny\"";
    private const string Syscall = "audit(1795537176.520:2): arch=c000003e syscall=257 success=no exit=-13 a0=ffffff9c a1=7ffc4bbe8914 a2=80000 a3=0 items=0 ppid=25489 pid=25601 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm=\"landlock_deny\" exe=\"/tmp/ll/landlock_deny\" key=(null)";
    private const string Eoe = "audit(1795537176.520:2): ";
    private const string NetAccess = "audit(1795537176.552:4): domain=18cb850b0 blockers=net.bind_tcp saddr=127.0.0.1 src=4099";
    private const string NetDomain = "audit(1795537176.552:4): domain=18cb850b0 status=allocated mode=enforcing pid=25603 uid=0 exe=\"/tmp/ll/landlock_deny\" comm=\"landlock_deny\"";
    private const string Dealloc = "audit(1795537176.596:5): domain=18cb8509c status=deallocated denials=1";

    private static AuditRecord R(int type, string body) => AuditRecord.Parse(type, body)!;

    /// <summary>Feeds the records in order as the listener does: denials become pending, every record is seen.</summary>
    private static List<AuditRecord> Stream(LandlockLinks links, params (int Type, string Body)[] records)
    {
        var pending = new List<AuditRecord>();
        foreach (var (type, body) in records)
        {
            var r = R(type, body);
            links.Saw(r, pending);
            if (r.Lsm is not null) pending.Add(r);
        }
        return pending;
    }

    [Fact]
    public void Access_record_alone_is_a_landlock_denial_without_a_pid()
    {
        var r = R(AuditRecord.AUDIT_LANDLOCK_ACCESS, Access);
        Assert.Equal("landlock", r.Lsm);
        Assert.Equal(0, r.Pid); // Landlock's record names no process
        var e = new LsmEvidence(r);
        Assert.Equal("fs.read_file", e.Operation);
        Assert.Equal(["fs.read_file"], e.Blockers);
        Assert.Equal("18cb8509c", e.Subject);
        Assert.Equal("/tmp/ll/secret.txt", e.Object);
        Assert.Null(e.Domain);
        Assert.Equal("Landlock denied fs.read_file of \"/tmp/ll/secret.txt\" (domain \"18cb8509c\"); audit record 2", e.Text);
    }

    [Fact]
    public void Domain_and_syscall_records_of_the_same_event_give_the_creator_and_the_pid()
    {
        var links = new LandlockLinks();
        var pending = Stream(links, (1423, Access), (1424, Domain));
        var r = Assert.Single(pending);
        Assert.False(r.Complete);
        Assert.Equal(0, r.Pid);
        links.Saw(R(AuditRecord.AUDIT_SYSCALL, Syscall), pending);
        Assert.Equal(25601, r.Pid);
        Assert.False(r.Complete);
        links.Saw(R(AuditRecord.AUDIT_EOE, Eoe), pending);
        Assert.True(r.Complete);

        var e = new LsmEvidence(r);
        Assert.Equal(new LandlockDomain("18cb8509c", 25601, 0, "/tmp/ll/landlock_deny", "landlock_deny"), e.Domain);
        Assert.Equal("Landlock denied fs.read_file of \"/tmp/ll/secret.txt\" (domain \"18cb8509c\", created by pid 25601 \"/tmp/ll/landlock_deny\"); audit record 2 of pid 25601", e.Text);

        var json = Json(e);
        Assert.Equal("landlock", json.GetProperty("lsm").GetString());
        Assert.Equal("fs.read_file", json.GetProperty("blockers")[0].GetString());
        Assert.Equal("vda", json.GetProperty("dev").GetString());
        Assert.Equal(11666237UL, json.GetProperty("ino").GetUInt64());
        Assert.Equal(25601, json.GetProperty("pid").GetInt32());
        Assert.Equal(25601, json.GetProperty("domain_pid").GetInt32());
        Assert.Equal(0u, json.GetProperty("domain_uid").GetUInt32());
        Assert.Equal("/tmp/ll/landlock_deny", json.GetProperty("domain_exe").GetString());
        Assert.Equal(Domain, json.GetProperty("domain_record").GetString());
        Assert.Equal(Access, json.GetProperty("record").GetString());
    }

    [Fact]
    public void A_later_denial_of_a_logged_domain_gets_the_remembered_creator()
    {
        // The kernel logs a domain's LANDLOCK_DOMAIN record once, with its first denial.
        var links = new LandlockLinks();
        Stream(links, (1423, Access), (1424, Domain), (1300, Syscall), (1320, Eoe));
        var again = Stream(links, (1423, Access.Replace(":2)", ":9)")));
        Assert.Equal(25601, new LsmEvidence(Assert.Single(again)).Domain?.CreatorPid);
    }

    [Fact]
    public void A_deallocated_domain_is_forgotten()
    {
        var links = new LandlockLinks();
        Stream(links, (1423, Access), (1424, Domain), (1424, Dealloc));
        Assert.Null(Assert.Single(Stream(links, (1423, Access.Replace(":2)", ":9)")))).Domain);
        Assert.Null(R(AuditRecord.AUDIT_LANDLOCK_DOMAIN, Dealloc).Lsm); // not a denial
    }

    [Fact]
    public void Without_a_syscall_record_a_later_event_completes_the_denial_and_it_keeps_no_pid()
    {
        // A task without an audit context: no SYSCALL/EOE records; the next event's serial ends this one.
        var links = new LandlockLinks();
        var pending = Stream(links, (1423, Access), (1424, Domain));
        links.Saw(R(AuditRecord.AUDIT_LANDLOCK_DOMAIN, Dealloc), pending);
        var r = Assert.Single(pending);
        Assert.True(r.Complete);
        Assert.Equal(0, r.Pid);
        Assert.Equal(25601, new LsmEvidence(r).Domain?.CreatorPid);
    }

    [Fact]
    public void Attribution_by_pid_when_known_else_by_the_file_named_once_the_event_is_complete()
    {
        var links = new LandlockLinks();
        var pending = Stream(links, (1423, Access), (1424, Domain));
        var r = pending[0];
        HashSet<string> secret = ["secret.txt"], other = ["other.txt"];
        Assert.False(AuditListener.Mine(r, 25601, secret, final: false)); // waits for the rest of the event
        Assert.True(AuditListener.Mine(r, 25601, secret, final: true));   // no pid: the file decides
        Assert.True(AuditListener.Mine(r, 4242, secret, final: true));
        Assert.False(AuditListener.Mine(r, 25601, other, final: true));
        Assert.False(AuditListener.Mine(r, 25601, [], final: true));       // no path in the call, no pid: not attributable
        links.Saw(R(1300, Syscall), pending);
        links.Saw(R(1320, Eoe), pending);
        Assert.True(AuditListener.Mine(r, 25601, secret, final: false));
        Assert.False(AuditListener.Mine(r, 4242, secret, final: false));  // another process's call on the same file
        Assert.True(AuditListener.Mine(r, 25601, [], final: false));
    }

    [Fact]
    public void Network_denial_names_address_and_port()
    {
        var links = new LandlockLinks();
        var e = new LsmEvidence(Assert.Single(Stream(links, (1423, NetAccess), (1424, NetDomain))));
        Assert.Equal("net.bind_tcp", e.Operation);
        Assert.Equal("127.0.0.1:4099", e.Object);
        Assert.Equal(25603, e.Domain?.CreatorPid);
        // Not captured (the program binds IPv4 only): connect's fields as lsm_audit.c writes them, %pI6c for IPv6.
        var v6 = new LsmEvidence(R(1423, "audit(1.000:1): domain=1 blockers=net.connect_tcp daddr=::1 dest=80"));
        Assert.Equal("[::1]:80", v6.Object);
    }

    [Fact]
    public void Several_blockers_and_a_hostile_path_in_hex()
    {
        // Captured like the others: O_RDWR outside the allowed tree denies both rights; a file name holding an
        // escape sequence is logged in hex (audit_log_untrustedstring).
        var rw = new LsmEvidence(R(1423, "audit(1795537587.268:66): domain=18cb850d9 blockers=fs.write_file,fs.read_file path=\"/tmp/ll/secret.txt\" dev=\"vda\" ino=11666237"));
        Assert.Equal(["fs.write_file", "fs.read_file"], rw.Blockers);
        var e = new LsmEvidence(R(1423, "audit(1795537587.304:67): domain=18cb850db blockers=fs.read_file path=2F746D702F6C6C2F781B5B324A79 dev=\"vda\" ino=11665722"));
        Assert.Equal("/tmp/ll/x\u001b[2Jy", e.Object);
        Assert.DoesNotContain("\u001b", e.Text);
    }

    private static JsonElement Json(LsmEvidence e)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
            Whyfail.Rendering.EvidenceJson.Write(w, e);
        return JsonDocument.Parse(Encoding.UTF8.GetString(ms.ToArray())).RootElement.Clone();
    }
}
