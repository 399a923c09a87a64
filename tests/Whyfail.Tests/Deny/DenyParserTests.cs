using Whyfail.Capture.Deny;
using Whyfail.Rendering;
using Whyfail.Tracing.Deny;
using Xunit;

namespace Whyfail.Tests.Deny;

/// <summary>`whyfail deny` rule syntax: WHAT=PATTERN[:errno=E][:user=[!]U,...][:comm=NAME].</summary>
public class DenyParserTests
{
    private static uint Users(string u) => u switch { "root" => 0, "nobody" => 65534, _ => uint.TryParse(u, out var n) ? n : throw new WhyfailException($"unknown user '{u}'", ExitCodes.Usage) };

    private static DenyRule Parse(string text) => DenyParser.ParseAll([text], Users)[0];

    private static string Error(params string[] texts)
    {
        var e = Assert.Throws<WhyfailException>(() => DenyParser.ParseAll(texts, Users));
        Assert.Equal(ExitCodes.Usage, e.ExitCode);
        return e.Message;
    }

    [Fact]
    public void Each_kind_with_its_defaults()
    {
        var c = Parse("create=*.exe");
        Assert.Equal((DenyWhat.Create, "*.exe", 13, DenyUsers.Any, (string?)null, 1), (c.What, c.Pattern, c.Errno, c.Users, c.Comm, c.Number));
        Assert.Equal([DenyHook.InodeCreate, DenyHook.InodeMkdir, DenyHook.InodeMknod, DenyHook.InodeSymlink, DenyHook.InodeLink, DenyHook.InodeRename], c.Hooks);
        Assert.Equal(DenyWhat.Open, Parse("open=/etc/shadow*").What);
        Assert.Equal([DenyHook.BprmCheck], Parse("exec=/tmp/**").Hooks);
        var b = Parse("bind=8080");
        Assert.Equal((DenyWhat.Bind, 8080, (string?)null), (b.What, b.Port, b.Pattern));
    }

    [Fact]
    public void Options_errno_users_and_comm()
    {
        var r = Parse("create=*.tmp:errno=EPERM:user=!root,nobody:comm=touch");
        Assert.Equal(1, r.Errno);
        Assert.Equal(DenyUsers.Except, r.Users);
        Assert.Equal([0u, 65534u], r.Uids);
        Assert.Equal("touch", r.Comm);
        Assert.Equal("create=*.tmp:errno=EPERM:user=!root,nobody:comm=touch", r.Text);
        var only = Parse("bind=80:user=1000:errno=98");
        Assert.Equal((DenyUsers.Only, 98), (only.Users, only.Errno));
        Assert.Equal([1000u], only.Uids);
        Assert.Equal("refuses binding port 80 by effective uid 1000, with EADDRINUSE", DenyMatcher.Describe(only));
    }

    [Fact]
    public void An_escaped_colon_belongs_to_the_pattern()
    {
        var r = Parse(@"open=/srv/a\:b*:user=nobody");
        Assert.Equal("/srv/a:b*", r.Pattern);
        Assert.True(Glob.Compile(r.Pattern!).Match("/srv/a:bc"));
    }

    [Fact]
    public void Rule_numbers_follow_the_command_line()
    {
        var rules = DenyParser.ParseAll(["create=a", "open=/b", "bind=1"], Users);
        Assert.Equal([1, 2, 3], rules.Select(r => r.Number));
    }

    [Theory]
    [InlineData("delete=*.x", "unknown kind 'delete'")]
    [InlineData("*.x", "expected WHAT=PATTERN")]
    [InlineData("create=", "empty pattern")]
    [InlineData("create=/tmp/*.x", "last component")]
    [InlineData("open=etc/shadow", "start the pattern with '/'")]
    [InlineData("bind=http", "not a port")]
    [InlineData("bind=70000", "not a port")]
    [InlineData("open=/x:errno=ENOTANERRNO", "not an errno")]
    [InlineData("open=/x:errno=512", "not an errno")] // ERESTARTSYS never reaches a program
    [InlineData("open=/x:user=", "empty name")]
    [InlineData("open=/x:user=ghost", "user 'ghost'")]
    [InlineData("open=/x:comm=a-name-longer-than-15", "1 to 15 bytes")]
    [InlineData("open=/x:pid=1", "unknown option 'pid'")]
    [InlineData("open=/x:comm=a:comm=b", "comm= given twice")]
    [InlineData(@"open=/x\", "escapes nothing")]
    public void Bad_rules_say_what_is_wrong(string text, string why)
    {
        var msg = Error(text);
        Assert.Contains("deny rule 1", msg);
        Assert.Contains(why, msg);
    }

    [Fact]
    public void At_most_eight_rules_and_at_least_one()
    {
        Assert.Contains("at most 8", Error(Enumerable.Range(0, 9).Select(i => $"bind={i}").ToArray()));
        Assert.Contains("at least one rule", Error());
    }

    [Fact]
    public void A_rule_with_control_characters_is_quoted_safely_in_errors()
    {
        var msg = Error("bogus=\u001b[31mred");
        Assert.DoesNotContain("\u001b", msg);
    }

    [Fact]
    public void The_kernel_side_gets_the_compiled_glob_and_the_rule()
    {
        var r = Parse("open=/a/*:user=nobody:comm=cat:errno=EPERM");
        var v = DenyEnforcer.Encode(r);
        var g = Glob.Compile("/a/*");
        Assert.Equal((uint)DenyWhat.Open, v.What);
        Assert.Equal(1, v.Err);
        Assert.Equal(1u, v.NUsers);
        Assert.Equal(3u, v.CommLen);
        Assert.Equal(g.Final, v.Glob.Final);
        Assert.Equal(g.Start, v.Glob.Start);
        Assert.Equal(g.Star, v.Glob.Star);
        unsafe
        {
            Assert.Equal(65534u, v.Users[0]);
            Assert.Equal((byte)'c', v.Comm[0]);
            Assert.Equal(g.Accept['/'], v.Glob.Accept['/']);
        }
    }

    [Fact]
    public void A_refused_call_is_marked_and_explained_with_its_rule()
    {
        var ev = new Whyfail.Events.SyscallEvent { Pid = 42, Tid = 42, Comm = "sh", Nr = 257, Ret = -13, KernelRet = -13, Euid = 65534 };
        ev.Syscall = "openat";
        ev.DecodedArgs = ["AT_FDCWD", "\"/tmp/x.exe\"", "O_WRONLY|O_CREAT|O_TRUNC", "0666"];
        ev.DeniedBy = new Whyfail.Events.Denial(1, 42, 42, 65534, "sh", 2, "create=*.exe:user=!root", "inode_create", "x.exe", "new name", 13);
        new Whyfail.Analysis.Explain.ExplainEngine([new Whyfail.Analysis.Explain.Rules.DeniedByRule(), new Whyfail.Analysis.Explain.Rules.PathPermissionDenied()]).Explain(ev);
        var x = ev.Explanation[0];
        Assert.Equal("deny.rule", x.Rule);
        Assert.Contains("whyfail deny rule 2 (create=*.exe:user=!root)", x.Text);
        Assert.Contains("inode_create matched the new name \"x.exe\"", x.Text);
        Assert.Contains("returned EACCES", x.Text);
        Assert.NotNull(x.Fix);
        Assert.DoesNotContain(ev.Explanation, e => e.Rule.StartsWith("path."));

        var sw = new StringWriter();
        new TextRenderer(sw, color: false, showComm: true).Event(ev);
        Assert.StartsWith("[pid 42 \"sh\"] openat(AT_FDCWD, \"/tmp/x.exe\", O_WRONLY|O_CREAT|O_TRUNC, 0666) = -1 EACCES (Permission denied) (denied by rule 2)\n", sw.ToString());
        Assert.Contains("    why: refused by whyfail deny rule 2", sw.ToString());
    }
}
