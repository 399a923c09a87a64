using System.Text.Json;
using Whyfail.Tests.Integration;
using Xunit;

namespace Whyfail.Tests.Explain;

/// <summary>
/// clone3 and io_uring_setup refusing real bad argument structs (tests/programs/clone3_bad.c, uring_bad.c, one call
/// per mode), traced by the real whyfail: each failure's explanation names the field of clone_args or
/// io_uring_params (or the argument) the kernel objected to.
/// </summary>
[Collection("tracing")]
[Trait("suite", "integration")]
public sealed class StructArgsTests
{
    /// <summary>Traces the program with the modes and returns, per failing call in order, its errno and the explanations of the rule.</summary>
    /// <remarks>
    /// The program stays alive (hold=FILE) until whyfail has written all its failures, so that rules reading its live
    /// state (descriptors) see it.
    /// </remarks>
    private static List<(string Errno, List<JsonElement> Why)> Trace(string program, string syscall, string rule, string[] modes)
    {
        var hold = Path.Combine(Path.GetTempPath(), $"whyfail-hold-{Guid.NewGuid():N}");
        WhyfailRun run;
        try
        {
            run = WhyfailRunner.Run(["--", WhyfailRunner.Program(program), .. modes, "hold=" + hold], TimeSpan.FromMinutes(5), (_, outFile) =>
            {
                for (var deadline = DateTime.UtcNow.AddMinutes(4); DateTime.UtcNow < deadline; Thread.Sleep(100))
                {
                    try
                    {
                        using var f = new FileStream(outFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                        if (new StreamReader(f).ReadToEnd().Split('\n').Count(l => l.Contains($"\"syscall\":\"{syscall}\"", StringComparison.Ordinal)) >= modes.Length) break;
                    }
                    catch (FileNotFoundException) { }
                }
                File.WriteAllText(hold, "");
            });
        }
        finally
        {
            File.Delete(hold);
        }
        Assert.True(run.ExitCode == 0, run.ToString());
        var fails = run.Syscalls.Where(e => e.GetProperty("syscall").GetString() == syscall).ToList();
        Assert.True(fails.Count == modes.Length, $"{fails.Count} failing {syscall} calls for {modes.Length} modes:\n{run}");
        return fails.Select(e => (e.GetProperty("errno").GetString()!,
            e.GetProperty("explanation").EnumerateArray().Where(x => x.GetProperty("rule").GetString() == rule).ToList())).ToList();
    }

    /// <summary>Runs the program with every mode and checks each failure: its errno, one explanation, how it starts, whether it is certain.</summary>
    private static List<(string Errno, List<JsonElement> Why)> Check(string program, string syscall, string rule,
        (string Mode, string Errno, string Starts, bool Certain)[] cases)
    {
        var got = Trace(program, syscall, rule, [.. cases.Select(c => c.Mode)]);
        foreach (var (c, g) in cases.Zip(got))
        {
            Assert.True(g.Errno == c.Errno, $"{c.Mode}: {g.Errno}");
            var texts = string.Join("\n", g.Why.Select(x => x.GetProperty("text").GetString()));
            Assert.True(g.Why.Count == 1, $"{c.Mode}: expected one explanation, got:\n{texts}");
            Assert.True(g.Why[0].GetProperty("text").GetString()!.StartsWith(c.Starts, StringComparison.Ordinal), $"{c.Mode}: {texts}");
            Assert.True(c.Certain == g.Why[0].GetProperty("certain").GetBoolean(), $"{c.Mode}: certain should be {c.Certain}");
            Assert.NotEqual(JsonValueKind.Null, g.Why[0].GetProperty("fix").ValueKind);
        }
        return got;
    }

    [Fact]
    public void Clone3_names_the_clone_args_field_of_each_bad_call()
    {
        var got = Check("clone3_bad", "clone3", "clone.invalid_args",
        [
            ("signal-in-flags", "EINVAL", "clone_args.flags = SIGCHLD has a signal in its low byte: clone3 takes the exit signal in exit_signal", true),
            ("exit-signal", "EINVAL", "clone_args.exit_signal = 65 is not a signal number (0 to 64)", true),
            ("thread-no-sighand", "EINVAL", "clone_args.flags has CLONE_THREAD without CLONE_SIGHAND", true),
            ("sighand-no-vm", "EINVAL", "clone_args.flags has CLONE_SIGHAND without CLONE_VM", true),
            ("stack-no-size", "EINVAL", "clone_args.stack = 0x", true),
            ("set-tid-null", "EINVAL", "clone_args.set_tid_size = 1 but set_tid is NULL", true),
            ("newuser-fs", "EINVAL", "clone_args.flags has CLONE_NEWUSER with CLONE_FS", true),
            ("small", "EINVAL", "the size argument 32 is below CLONE_ARGS_SIZE_VER0 (64)", true),
            ("huge", "E2BIG", "the size argument 8192 is larger than a page (4096 bytes)", true),
        ]);
        Assert.EndsWith("but stack_size is 0", got[4].Why[0].GetProperty("text").GetString());
    }

    [Fact]
    public void Io_uring_setup_names_the_io_uring_params_field_of_each_bad_call()
    {
        int possible = File.ReadAllText("/sys/devices/system/cpu/possible").Trim().Split('-', ',').Select(int.Parse).Max() + 1;
        var got = Check("uring_bad", "io_uring_setup", "io_uring.invalid_params",
        [
            ("zero-entries", "EINVAL", "the entries argument is 0", true),
            ("too-many", "EINVAL", "the entries argument 65536 is above IORING_MAX_ENTRIES (32768), and flags has no IORING_SETUP_CLAMP", true),
            ("resv", "EINVAL", "io_uring_params.resv = [0x0, 0x7, 0x0] is not all zero", true),
            ("unknown-flag", "EINVAL", "io_uring_params.flags has bit 30 (0x40000000), which no kernel whyfail knows defines", false),
            ("aff-no-sqpoll", "EINVAL", "io_uring_params.flags has IORING_SETUP_SQ_AFF without IORING_SETUP_SQPOLL", true),
            ("bad-cpu", "EINVAL", $"io_uring_params.sq_thread_cpu = 4095 is not a CPU of this machine (it has {possible} possible CPUs", true),
            ("cq-small", "EINVAL", "io_uring_params.cq_entries = 2 is smaller than the submission queue (8 entries", true),
            ("defer-no-single", "EINVAL", "io_uring_params.flags has IORING_SETUP_DEFER_TASKRUN without IORING_SETUP_SINGLE_ISSUER", true),
            ("attach-not-ring", "EINVAL", "io_uring_params.wq_fd = ", true),
        ]);
        Assert.Matches(@"^io_uring_params\.wq_fd = \d+ with IORING_SETUP_ATTACH_WQ is not an io_uring descriptor \(it is ""pipe:\[\d+\]""\)$",
            got[8].Why[0].GetProperty("text").GetString());
    }
}

/// <summary>The io_uring rule's own flag table (newer than the installed headers) agrees with the headers where both know a flag.</summary>
public sealed class IoUringSetupFlagTableTests
{
    [Fact]
    public void Every_flag_the_headers_define_has_the_same_bit_in_the_rule_table()
    {
        var headers = Whyfail.Decoding.Xlat.Table("io_uring_setup_flags").Entries;
        Assert.NotEmpty(headers);
        foreach (var (name, value) in headers)
        {
            var row = Assert.Single(Whyfail.Analysis.Explain.Rules.IoUringParamsInvalid.SetupFlags, f => f.Name == name);
            Assert.Equal(value, 1UL << row.Bit);
        }
    }
}
