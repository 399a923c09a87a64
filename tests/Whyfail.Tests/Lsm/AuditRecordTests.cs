using Whyfail.Analysis.Evidence;
using Xunit;

namespace Whyfail.Tests.Lsm;

/// <summary>Parsing of audit records as the kernel sends them (texts copied from the 6.12 lab and the kernel's formats).</summary>
public class AuditRecordTests
{
    [Fact]
    public void AppArmor_denial()
    {
        var r = AuditRecord.Parse(1400, "audit(1795526267.140:4): apparmor=\"DENIED\" operation=\"open\" class=\"file\" profile=\"wfdeny\" name=\"/newroot/tmp/wf-explain/wf-secret.txt\" pid=189 comm=\"python3\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0")!;
        Assert.Equal("apparmor", r.Lsm);
        Assert.Equal(1795526267140, r.TimeMs);
        Assert.Equal(4UL, r.Serial);
        Assert.Equal(189, r.Pid);
        var e = new LsmEvidence(r);
        Assert.Equal("open", e.Operation);
        Assert.Equal("wfdeny", e.Subject);
        Assert.Equal("/newroot/tmp/wf-explain/wf-secret.txt", e.Object);
        Assert.Equal("AppArmor denied open of \"/newroot/tmp/wf-explain/wf-secret.txt\" (profile \"wfdeny\", denied \"r\"); audit record 4 of \"python3\" pid 189", e.Text);
    }

    [Fact]
    public void AppArmor_status_records_are_not_denials()
    {
        var r = AuditRecord.Parse(1400, "audit(1795526073.320:2): apparmor=\"STATUS\" operation=\"profile_load\" profile=\"unconfined\" name=\"wfdeny\" pid=191 comm=\"apparmor_parser\"")!;
        Assert.Null(r.Lsm);
    }

    [Fact]
    public void Untrusted_strings_in_hex_are_decoded_and_escaped_in_text()
    {
        // audit_log_untrustedstring writes names with spaces, quotes or control characters as unquoted hex.
        var hex = Convert.ToHexString("/tmp/a b\u001b[31m"u8);
        var r = AuditRecord.Parse(1400, $"audit(1.002:9): apparmor=\"DENIED\" operation=\"open\" class=\"file\" profile=\"p\" name={hex} pid=5 comm=\"x\" requested_mask=\"w\" denied_mask=\"w\" fsuid=0 ouid=0")!;
        Assert.Equal("/tmp/a b\u001b[31m", r.Field("name"));
        Assert.DoesNotContain("\u001b", new LsmEvidence(r).Text);
        Assert.Equal(1002, r.TimeMs);
    }

    [Fact]
    public void SELinux_avc_denial()
    {
        var r = AuditRecord.Parse(1400, "audit(1700000000.500:77): avc:  denied  { read write } for  pid=4242 comm=\"httpd\" name=\"index.html\" dev=\"sda1\" ino=1234 scontext=system_u:system_r:httpd_t:s0 tcontext=unconfined_u:object_r:user_home_t:s0 tclass=file permissive=0")!;
        Assert.Equal("selinux", r.Lsm);
        var e = new LsmEvidence(r);
        Assert.Equal("read write", e.Operation);
        Assert.Equal("system_u:system_r:httpd_t:s0", e.Subject);
        Assert.Equal(4242, r.Pid);
        Assert.Contains("tclass \"file\"", e.Text);
    }

    [Fact]
    public void SELinux_permissive_is_not_a_denial()
    {
        var r = AuditRecord.Parse(1400, "audit(1700000000.500:78): avc:  denied  { read } for  pid=1 comm=\"x\" name=\"y\" scontext=a tcontext=b tclass=file permissive=1")!;
        Assert.Null(r.Lsm);
    }

    [Fact]
    public void Garbage_is_refused()
    {
        Assert.Null(AuditRecord.Parse(1400, "apparmor=\"DENIED\""));
        Assert.Null(AuditRecord.Parse(1400, "audit(x.y:z): a=b"));
    }
}
