#pragma warning disable CA1416 // Linux only
using System.Globalization;
using Xunit;
using static Whyfail.Tests.Explain.Ev;

namespace Whyfail.Tests.Explain;

/// <summary>
/// System-wide limits reached for real by lowering the machine's own sysctls, so only in the lab (each guest has its
/// own, and its writes are discarded): fs.file-max (ENFILE) and fs.inotify.max_user_instances (EMFILE). Each is
/// restored afterwards. The actors run as nobody: root with CAP_SYS_ADMIN may exceed fs.file-max
/// (fs/file_table.c alloc_empty_file). The "Explain" collection runs alone, so no other test opens files as another
/// user meanwhile; root processes (the test host) are exempt from the lowered file-max.
/// </summary>
[Collection("Explain")]
[Trait("kernel", "lab")]
public sealed class GlobalLimitLabTests
{
    const int NR_OPENAT = 257, NR_INOTIFY_INIT1 = 294, ENFILE = 23, EMFILE = 24;

    /// <summary>Sets a sysctl file to <paramref name="value"/> until disposed, then back to what it was.</summary>
    private sealed class Sysctl : IDisposable
    {
        private readonly string path, old;
        public Sysctl(string path, long value)
        {
            this.path = path;
            old = File.ReadAllText(path).Trim();
            File.WriteAllText(path, value.ToString(CultureInfo.InvariantCulture));
        }
        public void Dispose() => File.WriteAllText(path, old);
    }

    private static long FileNr() => long.Parse(File.ReadAllText("/proc/sys/fs/file-nr").Split('\t', ' ')[0], CultureInfo.InvariantCulture);

    [Fact]
    public void Enfile_names_fs_file_max_and_the_handles_allocated()
    {
        // Room for python's start-up, then a loop that opens /dev/null until the system table is full.
        long max = FileNr() + 200;
        using var limit = new Sysctl("/proc/sys/fs/file-max", max);
        using var p = Actor.Python("""
fds = []
err = 0
while len(fds) < 5000:
    try:
        fds.append(os.open('/dev/null', os.O_RDONLY))
    except OSError as e:
        err = e.errno
        break
say(len(fds))
say(err)
""");
        Assert.True(p.Said[1] == ENFILE.ToString(CultureInfo.InvariantCulture), $"opened {p.Said[0]} files, then errno {p.Said[1]}");

        var e = One(Run(p.Event("openat", NR_OPENAT, ENFILE, [AT_FDCWD, 0, 0], (1, "/dev/null"))), "fd.system_limit");
        Assert.Matches(@"^the whole system is out of file handles: [\d,]+ are allocated and fs\.file-max is " + Regex(max) + "$", e.Text);
        long allocated = long.Parse(e.Text.Split(' ')[8], NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
        Assert.InRange(allocated, max - 64, max + 64);
        Assert.True(e.Certain);
        Assert.StartsWith("find the process holding most descriptors", e.Fix);
    }

    [Fact]
    public void Emfile_from_inotify_init1_names_fs_inotify_max_user_instances()
    {
        using var limit = new Sysctl("/proc/sys/fs/inotify/max_user_instances", 2);
        using var p = Actor.Python("""
a = c('inotify_init1', 0)
b = c('inotify_init1', 0)
t(c, 'inotify_init1', 0)
""");
        Assert.Equal(EMFILE, p.Errno());

        var e = One(Run(p.Event("inotify_init1", NR_INOTIFY_INIT1, EMFILE, [0])), "inotify.limit");
        Assert.Equal($"nobody (uid {Actor.Nobody}) has 2 inotify instances and fs.inotify.max_user_instances is 2 (most: pid {p.Pid} (python3): 2)", e.Text);
        Assert.StartsWith("raise it (sysctl -w fs.inotify.max_user_instances=8)", e.Fix);
        Assert.True(e.Certain);
    }

    private static string Regex(long n) => System.Text.RegularExpressions.Regex.Escape(n.ToString("N0", CultureInfo.InvariantCulture));
}
