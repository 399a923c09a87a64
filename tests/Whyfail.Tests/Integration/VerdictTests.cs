using System.Text.Json;
using Xunit;

namespace Whyfail.Tests.Integration;

/// <summary>
/// The verdict (issue 14) on real programs: routine failures judged from what the program did next,
/// messages linked to the failure they name, culprits of a bad exit (also in a grandchild), and an error
/// delivered as data (getsockopt SO_ERROR).
/// </summary>
[Collection("tracing")]
[Trait("suite", "integration")]
public class VerdictTests
{
    private static string P(string name) => WhyfailRunner.Program(name);

    private static string Uniq(string stem) => Path.Combine("/nonexistent-whyfail", $"{stem}-{Guid.NewGuid():N}");

    private static JsonElement Verdict(WhyfailRun run) => run.Lines.Single(l => l.GetProperty("type").GetString() == "verdict");

    private static IEnumerable<JsonElement> FailuresOf(WhyfailRun run, int pid) =>
        run.Syscalls.Where(e => e.GetProperty("pid").GetInt32() == pid && e.GetProperty("errno").ValueKind == JsonValueKind.String);

    private static string? RoutineKind(JsonElement ev) =>
        ev.GetProperty("routine").ValueKind == JsonValueKind.Object ? ev.GetProperty("routine").GetProperty("kind").GetString() : null;

    private static int PidFromStdout(WhyfailRun run) => int.Parse(run.Stdout.Split(' ', '\n')[1]);

    [Fact]
    public void AProgramThatRecoversFromEveryFailureHasNoCulpritsAndEveryFailureIsRoutine()
    {
        var dir = Directory.CreateTempSubdirectory("whyfail-recover-");
        try
        {
            var run = WhyfailRunner.Run("--", P("recover_all"), dir.FullName);
            Assert.True(run.ExitCode == 0, run.ToString());
            int pid = PidFromStdout(run);
            var v = Verdict(run);
            Assert.Equal(0, v.GetProperty("exit_status").GetInt32());
            Assert.Equal(JsonValueKind.Null, v.GetProperty("signal").ValueKind);
            Assert.Empty(v.GetProperty("culprits").EnumerateArray());

            var failures = FailuresOf(run, pid).ToList();
            Assert.NotEmpty(failures);
            Assert.All(failures, f => Assert.True(RoutineKind(f) != null, $"not judged routine: {f}"));
            Assert.Equal(0, v.GetProperty("not_routine").GetInt64());

            // search: a/ and b/ missed, c/ had it
            var searched = failures.Where(f => f.GetProperty("args")[1].GetString()!.Contains("whyfail-searched.conf")).ToList();
            Assert.Equal(2, searched.Count);
            Assert.All(searched, f =>
            {
                Assert.Equal("search", RoutineKind(f));
                Assert.Contains($"{dir.FullName}/c/whyfail-searched.conf", f.GetProperty("routine").GetProperty("reason").GetString());
            });
            // probes: isatty on a pipe, lseek on a pipe, the wait loop's end
            Assert.Equal("probe", RoutineKind(Assert.Single(failures, f => f.GetProperty("syscall").GetString() == "ioctl" && f.GetProperty("errno").GetString() == "ENOTTY")));
            Assert.Equal("probe", RoutineKind(Assert.Single(failures, f => f.GetProperty("syscall").GetString() == "lseek")));
            Assert.Equal("probe", RoutineKind(Assert.Single(failures, f => f.GetProperty("errno").GetString() == "ECHILD")));
            // an existence check, a fallback in the same directory, mkdir of what exists, a lock retry, an optional
            // file, an optional local service: each judged by its own pattern
            string Label(Func<JsonElement, bool> which) =>
                Assert.Single(failures, f => which(f)).GetProperty("routine").GetProperty("label").GetString()!;
            bool Names(JsonElement f, string name) => f.GetProperty("args").EnumerateArray().Any(a => a.GetString()!.Contains(name));
            Assert.Equal("existence checks", Label(f => Names(f, "whyfail-asked")));
            Assert.Equal("fallbacks", Label(f => Names(f, "whyfail-lang.de_DE.UTF-8")));
            Assert.Equal("existence checks", Label(f => f.GetProperty("syscall").GetString() == "mkdir" && f.GetProperty("errno").GetString() == "EEXIST"));
            Assert.Equal("lock retries", Label(f => f.GetProperty("syscall").GetString() == "futex"));
            Assert.Equal("optional files", Label(f => Names(f, "whyfail-optional.conf")));
            Assert.Equal("service probes", Label(f => Names(f, "whyfail-absent.sock")));

            // a non-blocking connect the kernel did not complete at once was followed by poll
            foreach (var c in failures.Where(f => f.GetProperty("errno").GetString() == "EINPROGRESS"))
                Assert.Contains("poll", c.GetProperty("routine").GetProperty("reason").GetString());

            Assert.Equal(run.Summary.GetProperty("routine").GetInt64() + run.Summary.GetProperty("not_routine").GetInt64(),
                run.Syscalls.Count(e => e.GetProperty("errno").ValueKind == JsonValueKind.String));
        }
        finally
        {
            dir.Delete(true);
        }
    }

    [Fact]
    public void RoutineFailuresAreFoldedInTextAndShownWithRoutine()
    {
        var dir = Directory.CreateTempSubdirectory("whyfail-recover-");
        try
        {
            var (code, text, _) = WhyfailRunner.RunText("--color", "never", "--", P("recover_all"), dir.FullName);
            Assert.True(code == 0, text);
            Assert.DoesNotContain("whyfail-searched.conf", text);
            Assert.Matches(@"… \d+ routine failures: .*\d+ ENOENT in searches.*ENOTTY in terminal probes.* \(--routine shows them\)", text);
            Assert.Matches(@"verdict: recover_all \(pid \d+\) exited with status 0; \d+ failed calls, \d+ of them routine", text);

            var (code2, all, _) = WhyfailRunner.RunText("--color", "never", "--routine", "--", P("recover_all"), dir.FullName);
            Assert.True(code2 == 0, all);
            Assert.Contains($"{dir.FullName}/a/whyfail-searched.conf\", O_RDONLY|O_CLOEXEC) = -1 ENOENT", all);
            Assert.Contains("ioctl(", all);
        }
        finally
        {
            dir.Delete(true);
        }
    }

    [Theory]
    [InlineData("errno", "load failed: errno=2")]
    [InlineData("error", "load failed (error 2)")]
    [InlineData("python", "OSError: [Errno 2] could not load")]
    public void AMessageNamingTheErrnoNumberIsLinkedToTheFailure(string form, string expected)
    {
        string path = Uniq("say");
        var run = WhyfailRunner.Run("--", P("say_errno"), form, path);
        Assert.True(run.ExitCode == 3, run.ToString());
        var ev = Assert.Single(run.Failures("openat", "ENOENT"), e => e.GetProperty("args")[1].GetString() == $"\"{path}\"");
        Assert.Equal(JsonValueKind.Null, ev.GetProperty("routine").ValueKind);
        Assert.Equal(expected, ev.GetProperty("consequence").GetProperty("message").GetString());
        Assert.Equal(3, ev.GetProperty("consequence").GetProperty("exit").GetInt32());
        var culprit = Assert.Single(Verdict(run).GetProperty("culprits").EnumerateArray());
        Assert.Equal(expected, culprit.GetProperty("message").GetString());
        Assert.Equal(ev.GetProperty("ts_ns").GetUInt64(), culprit.GetProperty("ts_ns").GetUInt64());
    }

    [Fact]
    public void AMessageNamingOnlyThePathIsLinkedToTheFailure()
    {
        string path = Uniq("say-path");
        var run = WhyfailRunner.Run("--", P("say_errno"), "path", path);
        Assert.True(run.ExitCode == 3, run.ToString());
        var ev = Assert.Single(run.Failures("openat", "ENOENT"), e => e.GetProperty("args")[1].GetString() == $"\"{path}\"");
        Assert.Equal($"cannot load {path}", ev.GetProperty("consequence").GetProperty("message").GetString());
        Assert.Equal($"cannot load {path}", Assert.Single(Verdict(run).GetProperty("culprits").EnumerateArray()).GetProperty("message").GetString());
    }

    [Fact]
    public void AMessageNamingTheNameOfASearchThatNeverFoundItIsLinkedToThatSearch()
    {
        // As git outside a repository: ".git" looked for in the directory and every parent, none has it; a message catalog
        // tried for the message (after the search, so "the last failure" would name it); the message names ".git" alone.
        var dir = Directory.CreateTempSubdirectory("whyfail-search-up-");
        try
        {
            Directory.CreateDirectory(Path.Combine(dir.FullName, "a", "b"));
            string name = $".wfproject-{Guid.NewGuid():N}";
            string catalog = Uniq("locale") + "/search_up.mo";
            var run = WhyfailRunner.Run("--", P("search_up"), Path.Combine(dir.FullName, "a", "b"), name, catalog);
            Assert.True(run.ExitCode == 128, run.ToString());
            var culprit = Assert.Single(Verdict(run).GetProperty("culprits").EnumerateArray());
            Assert.EndsWith($"/{name}\"", culprit.GetProperty("args")[1].GetString());
            Assert.Equal($"fatal: not a project (or any of the parent directories): {name}", culprit.GetProperty("message").GetString());
            // the search explained as one looking upward, with where it started and ended
            string start = Path.Combine(dir.FullName, "a", "b");
            var failure = Assert.Single(run.Syscalls, e => e.GetProperty("ts_ns").GetUInt64() == culprit.GetProperty("ts_ns").GetUInt64());
            Assert.Contains(failure.GetProperty("explanation").EnumerateArray(), x =>
                x.GetProperty("rule").GetString() == "path.search" &&
                x.GetProperty("text").GetString()!.Contains($"looked for \"{name}\" in \"{start}\" and in each directory above it up to \"/\", and none had it"));
            var cat = Assert.Single(run.Failures("openat", "ENOENT"), e => e.GetProperty("args")[1].GetString() == $"\"{catalog}\"");
            Assert.False(cat.TryGetProperty("consequence", out var cq) && cq.ValueKind == JsonValueKind.Object &&
                cq.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String, $"the catalog got the message: {cat}");
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void AMessageNamingOnlyTheAddressIsLinkedToTheErrorDeliveredAsData()
    {
        var run = WhyfailRunner.Run("--", P("connect_refused"), "say");
        Assert.True(run.ExitCode == 1, run.ToString());
        string port = run.Stdout.Split(' ', '\n')[3];
        var culprit = Assert.Single(Verdict(run).GetProperty("culprits").EnumerateArray());
        Assert.Equal("getsockopt", culprit.GetProperty("syscall").GetString());
        Assert.Equal($"could not reach 127.0.0.1:{port}", culprit.GetProperty("message").GetString());
    }

    [Fact]
    public void AFailureFollowedByAbortIsLinkedToTheFatalSignal()
    {
        string path = Uniq("abort");
        var run = WhyfailRunner.Run("--", P("say_errno"), "abort", path);
        var v = Verdict(run);
        Assert.True(v.GetProperty("signal").GetString() == "SIGABRT", run.ToString());
        Assert.Equal(JsonValueKind.Null, v.GetProperty("exit_status").ValueKind);
        var culprit = Assert.Single(v.GetProperty("culprits").EnumerateArray());
        Assert.Equal("openat", culprit.GetProperty("syscall").GetString());
        var ev = Assert.Single(run.Failures("openat", "ENOENT"), e => e.GetProperty("args")[1].GetString() == $"\"{path}\"");
        Assert.Equal("SIGABRT", ev.GetProperty("consequence").GetProperty("signal").GetString());
        Assert.Equal(JsonValueKind.Null, ev.GetProperty("routine").ValueKind);
    }

    [Fact]
    public void ASilentFailureIsLinkedToTheNonZeroExit()
    {
        string path = Uniq("silent");
        var run = WhyfailRunner.Run("--", P("say_errno"), "none", path);
        Assert.True(run.ExitCode == 3, run.ToString());
        var v = Verdict(run);
        Assert.Equal(3, v.GetProperty("exit_status").GetInt32());
        var culprit = Assert.Single(v.GetProperty("culprits").EnumerateArray());
        Assert.Equal("openat", culprit.GetProperty("syscall").GetString());
        Assert.Equal("ENOENT", culprit.GetProperty("errno").GetString());
        Assert.Equal(JsonValueKind.Null, culprit.GetProperty("message").ValueKind);
        var ev = Assert.Single(run.Failures("openat", "ENOENT"), e => e.GetProperty("args")[1].GetString() == $"\"{path}\"");
        Assert.Equal(JsonValueKind.Null, ev.GetProperty("routine").ValueKind); // linked to the exit: never routine
        Assert.Equal(3, ev.GetProperty("consequence").GetProperty("exit").GetInt32());
    }

    [Fact]
    public void CatAsNobodyGetsAVerdictNamingItsMessage()
    {
        var dir = Directory.CreateTempSubdirectory("whyfail-private-");
        try
        {
            string file = Path.Combine(dir.FullName, "secret");
            File.WriteAllText(file, "x");
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            var (code, text, _) = WhyfailRunner.RunText("--color", "never", "-u", "nobody", "--", "cat", file);
            Assert.True(code == 1, text);
            int verdictAt = text.IndexOf("verdict: cat (pid ", StringComparison.Ordinal);
            Assert.True(verdictAt >= 0, text);
            string block = text[verdictAt..];
            Assert.Contains($"failed: [pid ", block);
            Assert.Contains($"openat(AT_FDCWD, \"{file}\", O_RDONLY) = -1 EACCES (Permission denied)", block);
            Assert.Matches($@"cat printed ""cat: {System.Text.RegularExpressions.Regex.Escape(file)}: Permission denied"" [\d.]+ ms later", block);
            Assert.Contains("why: ", block);
        }
        finally
        {
            dir.Delete(true);
        }
    }

    [Fact]
    public void SoErrorIsAFailureDeliveredAsData()
    {
        var run = WhyfailRunner.Run("--", P("connect_refused"));
        Assert.True(run.ExitCode == 1, run.ToString());
        int pid = PidFromStdout(run);
        var ev = Assert.Single(run.Failures("getsockopt", "ECONNREFUSED"));
        Assert.Equal(pid, ev.GetProperty("pid").GetInt32());
        Assert.True(ev.GetProperty("error_as_data").GetBoolean());
        Assert.Equal(0, ev.GetProperty("ret").GetInt64());
        Assert.Equal("[ECONNREFUSED]", ev.GetProperty("args")[3].GetString());
        // explained from the address the connect named (the program has exited by then: the listeners are the namespace's)
        string port = run.Stdout.Split(' ', '\n')[3];
        Assert.Contains(ev.GetProperty("explanation").EnumerateArray(), x =>
            x.GetProperty("rule").GetString() == "net.connection_refused" &&
            x.GetProperty("text").GetString()!.Contains($"(connect to 127.0.0.1:{port}, which returned at once and left the outcome to SO_ERROR) was refused: nothing is listening on 127.0.0.1:{port}"));
        var culprit = Assert.Single(Verdict(run).GetProperty("culprits").EnumerateArray());
        Assert.Equal("getsockopt", culprit.GetProperty("syscall").GetString());
        // the connect that started it was routine: the program polled
        var connect = Assert.Single(run.Failures("connect", "EINPROGRESS"));
        Assert.Equal("probe", RoutineKind(connect));
    }

    [FactRequiringIoUring]
    public void AnIoUringCompletionWithAnErrorIsAFailureDeliveredAsDataAndTheCulprit()
    {
        string path = Uniq("uring");
        var run = WhyfailRunner.Run("--", P("uring_openat"), path);
        Assert.True(run.ExitCode == 1, run.ToString()); // 77: io_uring_setup was refused although the sysctl allows it
        int pid = PidFromStdout(run);
        var ev = Assert.Single(run.Failures("io_uring_complete", "ENOENT"));
        Assert.Equal(pid, ev.GetProperty("pid").GetInt32());
        Assert.True(ev.GetProperty("error_as_data").GetBoolean());
        Assert.Equal("IORING_OP_OPENAT", ev.GetProperty("uring").GetProperty("opcode").GetString());
        Assert.Equal(0x2aUL, ev.GetProperty("uring").GetProperty("user_data").GetUInt64());
        Assert.Equal(JsonValueKind.Null, ev.GetProperty("routine").ValueKind);
        var culprit = Assert.Single(Verdict(run).GetProperty("culprits").EnumerateArray());
        Assert.Equal("io_uring_complete", culprit.GetProperty("syscall").GetString());
        Assert.Equal("ENOENT", culprit.GetProperty("errno").GetString());
        Assert.Equal($"uring_openat: {path}: No such file or directory", culprit.GetProperty("message").GetString());

        var text = WhyfailRunner.RunText("--", P("uring_openat"), path);
        Assert.Contains("io_uring_complete(IORING_OP_OPENAT, user_data=0x2a) = error ENOENT (No such file or directory) delivered as data", text.Text);
    }

    [Fact]
    public void ASetEScriptsFailureIsLinkedThroughEachWaitThatReportedIt()
    {
        string path = Uniq("set-e");
        string script = $"set -e; sh -c 'set -e; cat {path}; echo never'; echo never";
        var run = WhyfailRunner.Run("--", "sh", "-c", script);
        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.DoesNotContain("never", run.Stdout);
        var v = Verdict(run);
        int shPid = v.GetProperty("pid").GetInt32();
        var culprit = Assert.Single(v.GetProperty("culprits").EnumerateArray());
        Assert.Equal("cat", culprit.GetProperty("comm").GetString());
        Assert.Equal("ENOENT", culprit.GetProperty("errno").GetString());
        // cat exited 1, the inner sh reaped it (and, set -e, exited 1), the outer sh reaped that
        var via = culprit.GetProperty("via").EnumerateArray().ToList();
        Assert.Equal(2, via.Count);
        Assert.Equal(culprit.GetProperty("pid").GetInt32(), via[0].GetProperty("pid").GetInt32());
        Assert.Equal("cat", via[0].GetProperty("comm").GetString());
        Assert.Equal(1, via[0].GetProperty("exit_status").GetInt32());
        Assert.Equal(via[1].GetProperty("pid").GetInt32(), via[0].GetProperty("reaped_by_pid").GetInt32());
        Assert.Equal("sh", via[1].GetProperty("comm").GetString());
        Assert.Equal(1, via[1].GetProperty("exit_status").GetInt32());
        Assert.Equal(shPid, via[1].GetProperty("reaped_by_pid").GetInt32());

        var text = WhyfailRunner.RunText("--", "sh", "-c", script);
        Assert.Matches(@"cat \(pid \d+\) exited with status 1, which its parent sh \(pid \d+\) learned by waiting for it", text.Text);
        Assert.Matches(@"sh \(pid \d+\) exited with status 1, which its parent sh \(pid \d+\) learned by waiting for it", text.Text);
    }

    [Fact]
    public void AMessageWrittenToATerminalThatIsNotStandardErrorIsLinked()
    {
        string path = Uniq("tty");
        var run = WhyfailRunner.Run("--", P("tty_error"), path);
        Assert.True(run.ExitCode == 1, run.ToString()); // 3: no pseudo-terminal here
        int pid = PidFromStdout(run);
        var open = Assert.Single(FailuresOf(run, pid), f => f.GetProperty("args")[1].GetString()!.Contains(path));
        Assert.Equal($"tty_error: {path}: No such file or directory", open.GetProperty("consequence").GetProperty("message").GetString());
        var culprit = Assert.Single(Verdict(run).GetProperty("culprits").EnumerateArray());
        Assert.Equal($"tty_error: {path}: No such file or directory", culprit.GetProperty("message").GetString());
    }

    [Fact]
    public void AFailureInAGrandchildIsTheCulpritOfTheCommand()
    {
        string path = Uniq("grandchild");
        var run = WhyfailRunner.Run("--", "sh", "-c", $"sh -c 'cat {path}; exit 3'; exit $?");
        Assert.True(run.ExitCode == 3, run.ToString());
        var v = Verdict(run);
        Assert.Equal(3, v.GetProperty("exit_status").GetInt32());
        var culprit = Assert.Single(v.GetProperty("culprits").EnumerateArray());
        Assert.NotEqual(v.GetProperty("pid").GetInt32(), culprit.GetProperty("pid").GetInt32());
        Assert.Equal("cat", culprit.GetProperty("comm").GetString());
        Assert.Equal($"cat: {path}: No such file or directory", culprit.GetProperty("message").GetString());
    }

    [Fact]
    public void AnExistenceCheckItsThreadFailedPastDoesNotExplainTheEnd()
    {
        // The check's "no" is the last thing the script tested, but the shell then failed a terminal probe and exited with a
        // status of its own: the check has only the shape of a routine failure, and its thread carried on past it (as
        // python's look for a user site-packages directory, long before the exception that ends it).
        string path = Uniq("checked");
        var run = WhyfailRunner.Run("--", "sh", "-c", $"test -e {path}; test -t 0; exit 3");
        Assert.True(run.ExitCode == 3, run.ToString());
        var check = Assert.Single(run.Syscalls, e => e.GetProperty("errno").GetString() == "ENOENT" &&
            e.GetProperty("args").EnumerateArray().Any(a => a.GetString() == $"\"{path}\""));
        Assert.Contains(run.Failures("ioctl", "ENOTTY"), e => e.GetProperty("tid").GetInt32() == check.GetProperty("tid").GetInt32() &&
            e.GetProperty("ts_ns").GetUInt64() > check.GetProperty("ts_ns").GetUInt64());
        var v = Verdict(run);
        Assert.Equal(3, v.GetProperty("exit_status").GetInt32());
        Assert.Empty(v.GetProperty("culprits").EnumerateArray());
        // Without the probe after it the check is still the culprit of a silent bad end.
        var alone = WhyfailRunner.Run("--", "sh", "-c", $"test -e {path} || exit 3");
        var culprit = Assert.Single(Verdict(alone).GetProperty("culprits").EnumerateArray());
        Assert.Equal($"\"{path}\"", culprit.GetProperty("args")[1].GetString());
    }

    [Fact]
    public void AWrappersFailureBeforeItExecsTheProgramDoesNotExplainTheProgramsEnd()
    {
        // The shell (a wrapper, as pyenv's python3 shim is bash until it execs python) fails a cd and says so, then execs
        // false, which exits 1 by design: that image carried on into the next one, so its message did not end the process.
        string dir = Uniq("wrapper-dir");
        var run = WhyfailRunner.Run("--", "sh", "-c", $"cd {dir}; exec false");
        Assert.True(run.ExitCode == 1, run.ToString());
        var cd = Assert.Single(run.Failures("chdir", "ENOENT"));
        Assert.Equal("sh", cd.GetProperty("comm").GetString());
        var v = Verdict(run);
        Assert.Equal("false", v.GetProperty("comm").GetString());
        Assert.Equal(1, v.GetProperty("exit_status").GetInt32());
        Assert.Empty(v.GetProperty("culprits").EnumerateArray());
    }

    [Fact]
    public void AMissingTranslationCatalogIsRoutineUnlessAMessageNamesIt()
    {
        // gettext's catalog for a message about to be written (make's last words before exit status 2): absent, the message
        // is written untranslated. A silent bad end right after it has no culprit; a message naming the catalog still
        // makes it one.
        string catalog = Uniq("locale") + "/C/LC_MESSAGES/say_errno.mo";
        var run = WhyfailRunner.Run("--", P("say_errno"), "none", catalog);
        Assert.True(run.ExitCode == 3, run.ToString());
        var ev = Assert.Single(run.Failures("openat", "ENOENT"), e => e.GetProperty("args")[1].GetString() == $"\"{catalog}\"");
        Assert.Equal("message catalogs", ev.GetProperty("routine").GetProperty("label").GetString());
        Assert.Empty(Verdict(run).GetProperty("culprits").EnumerateArray());

        var said = WhyfailRunner.Run("--", P("say_errno"), "path", catalog);
        var culprit = Assert.Single(Verdict(said).GetProperty("culprits").EnumerateArray());
        Assert.Equal($"cannot load {catalog}", culprit.GetProperty("message").GetString());
    }

    [Fact]
    public void CountingTheKernelsCapabilitiesIsRoutine()
    {
        // libcap's count of the kernel's capabilities (through NSS modules it ran in `id nosuchuser`, whose verdict blamed
        // it): PR_CAPBSET_READ upward until EINVAL. The answer is the question's, whatever the program does next.
        var run = WhyfailRunner.Run("--", P("cap_probe"), "4");
        Assert.True(run.ExitCode == 4, run.ToString());
        var probe = Assert.Single(run.Failures("prctl", "EINVAL"));
        Assert.Equal("PR_CAPBSET_READ", probe.GetProperty("args")[0].GetString());
        Assert.Equal("capability probes", probe.GetProperty("routine").GetProperty("label").GetString());
        Assert.Empty(Verdict(run).GetProperty("culprits").EnumerateArray());
    }
}
