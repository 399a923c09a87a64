using System.Text.Json;
using Xunit;

namespace Whyfail.Tests.Integration;

/// <summary>
/// "Same context as before" (the kernel sends a failure's context once and then a reference to it while it stays the
/// same): one real process changes its working directory, renames a directory above it and the directory itself, its
/// mode, umask, limit, descriptor table and effective uid, fails from a second thread, after its cwd was removed, below
/// a tmpfs it mounted and at the same names once unmounted; every failure must carry its own, true context, and a
/// repeated failure the same bytes.
/// </summary>
[Collection("tracing")]
[Trait("suite", "integration")]
public class ContextChangeTests
{
    [Fact]
    public void EveryFailureCarriesItsOwnContextAndARepeatTheSameBytes() => ContextStatsRun.Run("context_changes", (run, dir, counts) =>
    {
        // the kernel sent the repeats as references: rep twice, after_badfd (at least; the launcher's own failures may add)
        Assert.True(counts.References >= 4, $"{counts}");
        Assert.True(counts.Bases >= 14, $"{counts}");
        var byName = run.Syscalls.Where(e => e.GetProperty("syscall").GetString() == "openat")
            .Select(e => (Name: e.GetProperty("args")[1].GetString()!.Trim('"'), Event: e))
            .Where(x => !x.Name.Contains('/'))
            .GroupBy(x => x.Name).ToDictionary(g => g.Key, g => g.Select(x => x.Event).ToList());
        JsonElement Ctx(string name)
        {
            Assert.True(byName.TryGetValue(name, out var evs), $"no failure '{name}': {run}");
            var ev = evs![0];
            Assert.True(ev.TryGetProperty("context", out var c) && c.ValueKind == JsonValueKind.Object, $"no context: {ev}");
            return c;
        }
        string Cwd(string name) => Ctx(name).GetProperty("cwd").GetProperty("target").GetString()!;
        string Mode(string name) => Ctx(name).GetProperty("cwd").GetProperty("mode").GetString()!;

        // the repeat: three failures, the same line but for the time, the same context bytes
        var rep = byName["rep"];
        Assert.Equal(3, rep.Count);
        var lines = rep.Select(e => System.Text.RegularExpressions.Regex.Replace(e.GetRawText(), "\"ts_ns\":\\d+", "")).ToList();
        Assert.Equal(lines[0], lines[1]);
        Assert.Equal(lines[0], lines[2]);
        Assert.Equal($"{dir}/a/b", Cwd("rep"));

        Assert.Equal($"{dir}/a", Cwd("up"));
        Assert.Equal($"{dir}/x/b", Cwd("moved"));        // a directory above the cwd renamed
        Assert.Equal($"{dir}/x/c", Cwd("renamed"));      // the cwd itself renamed
        Assert.Equal("040755", Mode("renamed"));
        Assert.Equal("040700", Mode("chmod"));
        Assert.Equal("0077", Ctx("umask").GetProperty("umask").GetString());
        Assert.NotEqual("0077", Ctx("chmod").GetProperty("umask").GetString());
        static int Soft(JsonElement c) => c.GetProperty("limits").GetProperty("Max open files").GetProperty("soft").GetInt32();
        static int MaxFds(JsonElement c) => c.GetProperty("max_fds").GetInt32();
        Assert.True(MaxFds(Ctx("fds")) > 600 && MaxFds(Ctx("umask")) < MaxFds(Ctx("fds")), Ctx("fds").ToString());
        Assert.NotEqual(100, Soft(Ctx("fds")));
        Assert.Equal(100, Soft(Ctx("rlimit")));
        Assert.Equal(65534, Ctx("nobody").GetProperty("uids")[1].GetInt32());
        Assert.Equal("EACCES", byName["nobody"][0].GetProperty("errno").GetString());
        Assert.Equal(0, Ctx("root").GetProperty("uids")[1].GetInt32());

        // a context with a descriptor record between two equal ones: the later one is the earlier one's
        var badfd = Assert.Single(run.Failures("read", "EBADF"));
        Assert.Equal(999, Assert.Single(badfd.GetProperty("context").GetProperty("files").EnumerateArray()).GetProperty("fd").GetInt32());
        Assert.Equal(Ctx("root").GetRawText(), Ctx("after_badfd").GetRawText());

        // another thread: its own record, the same context
        var thread = byName["thread"][0];
        Assert.NotEqual(thread.GetProperty("pid").GetInt32(), thread.GetProperty("tid").GetInt32());
        Assert.Equal(Ctx("root").GetRawText(), Ctx("thread").GetRawText());

        Assert.False(Ctx("root").GetProperty("cwd").GetProperty("deleted").GetBoolean());
        Assert.True(Ctx("deleted").GetProperty("cwd").GetProperty("deleted").GetBoolean(), Ctx("deleted").ToString());

        // a cwd below a mount (the walk crosses it: the kernel's general signature), repeated; then the same names
        // on the file system below once it is unmounted
        var mnt = byName["mnt"];
        Assert.Equal(2, mnt.Count);
        Assert.Equal(System.Text.RegularExpressions.Regex.Replace(mnt[0].GetRawText(), "\"ts_ns\":\\d+", ""),
            System.Text.RegularExpressions.Regex.Replace(mnt[1].GetRawText(), "\"ts_ns\":\\d+", ""));
        Assert.Equal($"{dir}/m/d", Cwd("mnt"));
        Assert.Equal("tmpfs", Ctx("mnt").GetProperty("cwd").GetProperty("fs_type").GetString());
        Assert.Equal($"{dir}/m/d", Cwd("unmounted"));
        Assert.NotEqual("tmpfs", Ctx("unmounted").GetProperty("cwd").GetProperty("fs_type").GetString());
        Assert.NotEqual(Ctx("mnt").GetProperty("cwd").GetProperty("mnt_id").GetInt32(),
        Ctx("unmounted").GetProperty("cwd").GetProperty("mnt_id").GetInt32());
    });
}
