#pragma warning disable CA1416 // Linux only
using Xunit;
using static Whyfail.Tests.Explain.Ev;

namespace Whyfail.Tests.Explain;

/// <summary>
/// inotify limits, reached for real without touching the machine's sysctls: in a new user namespace (unshare -Ur)
/// the process lowers its namespace's own /proc/sys/user/max_inotify_* and runs into it.
/// </summary>
[Collection("Explain")]
public sealed class InotifyTests
{
    const int NR_INOTIFY_INIT1 = 294, NR_INOTIFY_ADD_WATCH = 254;
    static readonly string[] UserNs = ["unshare", "-U", "-r"];

    [Fact]
    public void Emfile_from_inotify_init1_names_the_namespace_limit_and_the_holder()
    {
        using var p = Actor.Python("""
open('/proc/sys/user/max_inotify_instances', 'w').write('1')
first = c('inotify_init1', 0)
t(c, 'inotify_init1', 0)
""", uid: null, prefix: UserNs);
        Assert.Equal(24, p.Errno());

        var e = One(Run(p.Event("inotify_init1", NR_INOTIFY_INIT1, 24, [0])), "inotify.limit");
        Assert.Matches(@"^root \(uid 0\) \(in user namespace user:\[\d+\]\) has 1 inotify instances and the limit of pid \d+'s user namespace user:\[\d+\] \(/proc/sys/user/max_inotify_instances inside it\) is 1 \(most: pid " + p.Pid + @" \(python3\): 1\)$", e.Text);
        Assert.StartsWith("raise it inside the namespace (as its root: echo 128 > /proc/sys/user/max_inotify_instances)", e.Fix);
        Assert.True(e.Certain);
    }

    [Fact]
    public void Enospc_from_inotify_add_watch_counts_the_watches()
    {
        using var d = new TempDir();
        d.Dir("a"); d.Dir("b"); d.Dir("c");
        using var p = Actor.Python($"""
open('/proc/sys/user/max_inotify_watches', 'w').write('2')
fd = c('inotify_init1', 0)
c('inotify_add_watch', fd, b'{d["a"]}', 2)
c('inotify_add_watch', fd, b'{d["b"]}', 2)
say(fd)
t(c, 'inotify_add_watch', fd, b'{d["c"]}', 2)
""", uid: null, prefix: UserNs);
        Assert.Equal(28, p.Errno());
        int fd = int.Parse(p.Said[0]);

        var e = One(Run(p.Event("inotify_add_watch", NR_INOTIFY_ADD_WATCH, 28, [(ulong)fd, 0, 2], (1, d["c"]))), "inotify.limit");
        Assert.Contains("has 2 inotify watches and the limit of pid", e.Text);
        Assert.Contains("(/proc/sys/user/max_inotify_watches inside it) is 2", e.Text);
        Assert.True(e.Certain);
    }
}
