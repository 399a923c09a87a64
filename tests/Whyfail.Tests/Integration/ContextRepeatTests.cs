using System.Text.Json;
using Xunit;

namespace Whyfail.Tests.Integration;

/// <summary>
/// The kernel's short path for a repeated failure (a reference to the context already sent, decided by comparing the
/// task's state field by field with the key, without building the record): one real process fails the same call twice
/// after each change of a field that path compares (limits, umask, dispositions, blocked mask, one and several groups,
/// securebits, capabilities, fsuid and back, the descriptor table, no_new_privs, seccomp, the cwd and a rename above
/// it; tests/programs/context_repeats.c). Each pair must carry the context of its own step, the second the first's.
/// </summary>
[Collection("tracing")]
[Trait("suite", "integration")]
public class ContextRepeatTests
{
    [Fact]
    public void ARepeatAfterEachChangeCarriesThatStepsContext() => ContextStatsRun.Run("context_repeats", (run, dir, counts) =>
    {
        Assert.True(counts.References >= 19, $"{counts}");   // each step's second failure
        var again = run.Syscalls.Where(e => e.GetProperty("syscall").GetString() == "openat" &&
                                            e.GetProperty("args")[1].GetString()!.Trim('"') == "again").ToList();
        Assert.True(again.Count == 38, $"{again.Count} failures of 'again': {run}");
        var ctx = again.Select(e =>
        {
            Assert.True(e.TryGetProperty("context", out var c) && c.ValueKind == JsonValueKind.Object, $"no context: {e}");
            return c;
        }).ToList();
        JsonElement Step(int k)
        {
            Assert.True(ctx[2 * k].GetRawText() == ctx[2 * k + 1].GetRawText(), $"step {k}: the repeat differs:\n{ctx[2 * k]}\n{ctx[2 * k + 1]}");
            return ctx[2 * k];
        }
        for (int k = 1; k < 19; k++)
            if (k != 12)
                Assert.True(Step(k).GetRawText() != Step(k - 1).GetRawText(), $"step {k}: the same context as step {k - 1}: {Step(k)}");

        static JsonElement Limit(JsonElement c, string name) => c.GetProperty("limits").GetProperty(name);
        string Cwd(int k) => Step(k).GetProperty("cwd").GetProperty("target").GetString()!;
        Assert.Equal($"{dir}/w", Cwd(0));
        Assert.NotEqual(12345, Limit(Step(0), "Max file size").GetProperty("soft").ValueKind == JsonValueKind.Number
            ? Limit(Step(0), "Max file size").GetProperty("soft").GetInt64() : -1);
        Assert.Equal(12345, Limit(Step(1), "Max file size").GetProperty("soft").GetInt64());
        Assert.Equal("0027", Step(2).GetProperty("umask").GetString());
        Assert.Equal("ignores", Step(3).GetProperty("signals").GetProperty("SIGPIPE").GetString());
        Assert.NotEqual("handles", Step(3).GetProperty("signals").GetProperty("SIGCHLD").GetString());
        Assert.Equal("handles", Step(4).GetProperty("signals").GetProperty("SIGCHLD").GetString());
        Assert.Equal(1UL << 9, Convert.ToUInt64(Step(5).GetProperty("blocked").GetString(), 16) & (1UL << 9));
        Assert.Equal(0UL, Convert.ToUInt64(Step(4).GetProperty("blocked").GetString(), 16) & (1UL << 9));
        static string Groups(JsonElement c) => string.Join(",", c.GetProperty("groups").EnumerateArray().Select(g => g.GetUInt32()));
        Assert.Equal("4242", Groups(Step(6)));
        Assert.Equal("1,2,3", Groups(Step(7)));
        Assert.Equal(3, Step(7).GetProperty("ngroups").GetInt32());
        Assert.Equal("4343", Groups(Step(8)));
        Assert.Equal(16, Step(9).GetProperty("securebits").GetInt32());
        ulong Eff(int k) => Convert.ToUInt64(Step(k).GetProperty("cap_effective").GetString(), 16);
        Assert.Equal(Eff(9) & ~(1UL << 21), Eff(10));
        Assert.NotEqual(Eff(9), Eff(10));
        Assert.Equal(1234, Step(11).GetProperty("uids")[3].GetInt32());
        Assert.Equal(Step(10).GetRawText(), Step(12).GetRawText());    // back to an earlier state: its context again
        Assert.True(Step(13).GetProperty("max_fds").GetInt32() > Step(12).GetProperty("max_fds").GetInt32(), Step(13).ToString());
        Assert.False(Step(13).GetProperty("no_new_privs").GetBoolean());
        Assert.True(Step(14).GetProperty("no_new_privs").GetBoolean());
        Assert.Equal(2, Step(15).GetProperty("seccomp_mode").GetInt32());
        Assert.Equal(Step(14).GetProperty("seccomp_filters").GetInt32() + 1, Step(15).GetProperty("seccomp_filters").GetInt32());
        Assert.Equal($"{dir}/w/sub", Cwd(16));
        Assert.Equal($"{dir}/v/sub", Cwd(17));
        Assert.Equal(4000, Limit(Step(18), "Max open files").GetProperty("hard").GetInt64());
        Assert.NotEqual(4000, Limit(Step(17), "Max open files").GetProperty("hard").ValueKind == JsonValueKind.Number
            ? Limit(Step(17), "Max open files").GetProperty("hard").GetInt64() : -1);
    });
}
