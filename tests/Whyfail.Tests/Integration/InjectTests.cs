using System.Diagnostics;
using System.Text.Json;
using Xunit;

namespace Whyfail.Tests.Integration;

/// <summary>
/// --inject on real programs: the seccomp filter the launcher installs before exec fails the chosen calls (in the kernel
/// for plain rules, through whyfail's supervisor for path=, comm=, when= and retval=), the program reacts as it would to
/// a real failure, children inherit the rule, the exit status is the program's, and the trace marks what was injected.
/// </summary>
[Collection("tracing")]
[Trait("suite", "integration")]
public class InjectTests
{
    private static string TempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"whyfail-inject-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        File.SetUnixFileMode(dir, (UnixFileMode)0x1ff); // 0777: -u nobody writes here too
        return dir;
    }

    private static bool IsInjected(JsonElement e) => e.TryGetProperty("injected", out var i) && i.GetBoolean();

    private static IEnumerable<JsonElement> Injected(WhyfailRun run) => run.Syscalls.Where(IsInjected);

    [Fact]
    public void A_program_reacts_to_ENOSPC_injected_into_its_third_write_and_its_exit_status_is_kept()
    {
        var dir = TempDir();
        try
        {
            var run = WhyfailRunner.Run("--inject=write:error=ENOSPC:when=3", "--", WhyfailRunner.Program("write_until_error"), Path.Combine(dir, "f"));
            Assert.True(run.ExitCode == 3, run.ToString()); // the program's own status: the 3rd write failed
            Assert.Contains("write 1 = 1\nwrite 2 = 1\nwrite 3: ENOSPC\n", run.Stdout);
            var inj = Assert.Single(Injected(run));
            Assert.Equal("write", inj.GetProperty("syscall").GetString());
            Assert.Equal("ENOSPC", inj.GetProperty("errno").GetString());
            var x = Assert.Single(inj.GetProperty("explanation").EnumerateArray(), x => x.GetProperty("rule").GetString() != "process.gone");
            Assert.Equal("inject.injected", x.GetProperty("rule").GetString());
            Assert.Contains("invocation 3", x.GetProperty("text").GetString());
            Assert.True(x.GetProperty("certain").GetBoolean());
            Assert.Equal(1, run.Summary.GetProperty("injected").GetInt64());
            // the two writes before it were not failed, and nothing else was marked
            Assert.DoesNotContain(run.Syscalls, e => !IsInjected(e) && e.GetProperty("syscall").GetString() == "write");
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void A_plain_rule_is_decided_by_the_kernel_filter_and_not_taken_for_the_programs_own_seccomp()
    {
        var dir = TempDir();
        try
        {
            var target = Path.Combine(dir, "d");
            var run = WhyfailRunner.Run("--inject=mkdir:error=EROFS", "--", "mkdir", target);
            Assert.True(run.ExitCode == 1, run.ToString());
            Assert.Contains("Read-only file system", run.Stderr);
            Assert.False(Directory.Exists(target)); // the call did not run
            var inj = Assert.Single(Injected(run));
            Assert.Equal("mkdir", inj.GetProperty("syscall").GetString());
            Assert.Equal("EROFS", inj.GetProperty("errno").GetString());
            var rules = inj.GetProperty("explanation").EnumerateArray().Select(x => x.GetProperty("rule").GetString()).ToList();
            Assert.Contains("inject.injected", rules);
            Assert.DoesNotContain("seccomp.blocked", rules);
            Assert.Contains(inj.GetProperty("explanation").EnumerateArray(), x => x.GetProperty("text").GetString()!.Contains("seccomp filter whyfail installed"));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Only_the_open_of_the_matching_path_fails()
    {
        var dir = TempDir();
        try
        {
            string a = Path.Combine(dir, "a.txt"), b = Path.Combine(dir, "b.txt");
            File.WriteAllText(a, "alpha\n");
            File.WriteAllText(b, "beta\n");
            var run = WhyfailRunner.Run("--inject=openat:error=EACCES:path=*/b.txt", "--", "sh", "-c", $"cat {a}; cat {b}");
            Assert.True(run.ExitCode == 1, run.ToString()); // the last cat failed
            Assert.Contains("alpha", run.Stdout);
            Assert.DoesNotContain("beta", run.Stdout);
            Assert.Contains("Permission denied", run.Stderr);
            var inj = Assert.Single(Injected(run));
            Assert.Equal($"\"{b}\"", inj.GetProperty("args")[1].GetString());
            Assert.Equal("EACCES", inj.GetProperty("errno").GetString());
            Assert.DoesNotContain(run.Syscalls, e => e.GetProperty("args").EnumerateArray().Any(x => x.GetString() == $"\"{a}\""));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void A_child_inherits_the_rule_and_counts_its_own_calls()
    {
        var dir = TempDir();
        try
        {
            // sh's own write (the echo) is counted for sh's thread, the program's for its own: per thread, as strace does
            var run = WhyfailRunner.Run("--inject=write:error=ENOSPC:when=3", "--", "sh", "-c",
                $"{WhyfailRunner.Program("write_until_error")} {Path.Combine(dir, "f")}; echo status=$?");
            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.Contains("write 3: ENOSPC\nstatus=3\n", run.Stdout);
            var inj = Assert.Single(Injected(run));
            Assert.Equal("write_until_err", inj.GetProperty("comm").GetString());
            Assert.NotEqual(run.Syscalls.First().GetProperty("pid").GetInt32(), inj.GetProperty("pid").GetInt32()); // not the shell
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData("2..3", 5, "write 1 = 1\nwrite 2: ENOSPC\nwrite 3: ENOSPC\nwrite 4 = 1\nwrite 5 = 1\n", 2)]
    [InlineData("2+3", 8, "write 1 = 1\nwrite 2: ENOSPC\nwrite 3 = 1\nwrite 4 = 1\nwrite 5: ENOSPC\nwrite 6 = 1\nwrite 7 = 1\nwrite 8: ENOSPC\n", 3)]
    [InlineData("2..7+2", 6, "write 1 = 1\nwrite 2: ENOSPC\nwrite 3 = 1\nwrite 4: ENOSPC\nwrite 5 = 1\nwrite 6: ENOSPC\n", 3)]
    public void When_counts_invocations_as_strace_does(string when, int writes, string expected, int failed)
    {
        var dir = TempDir();
        try
        {
            // the program's final write to standard output is its writes+1st: none of these selects it
            var file = Path.Combine(dir, "f");
            var run = WhyfailRunner.Run($"--inject=write:error=ENOSPC:when={when}", "--", WhyfailRunner.Program("write_until_error"), "-k", file, writes.ToString());
            Assert.True(run.ExitCode == failed, run.ToString());
            Assert.Contains(expected, run.Stdout);
            Assert.Equal(failed, Injected(run).Count());
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Retval_makes_the_call_return_a_success_value_without_running()
    {
        var dir = TempDir();
        try
        {
            var file = Path.Combine(dir, "f");
            var run = WhyfailRunner.Run("--all", "--syscall", "write", "--inject=write:retval=0:when=2", "--",
                WhyfailRunner.Program("write_until_error"), "-k", file, "3");
            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.Contains("write 1 = 1\nwrite 2 = 0\nwrite 3 = 1\n", run.Stdout);
            Assert.Equal("xx", File.ReadAllText(file)); // the second write did not run
            var inj = Assert.Single(Injected(run));
            Assert.Equal(0, inj.GetProperty("ret").GetInt64());
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Comm_limits_the_rule_to_threads_of_that_name()
    {
        var dir = TempDir();
        try
        {
            string side = Path.Combine(dir, "side"), file = Path.Combine(dir, "f");
            var run = WhyfailRunner.Run("--inject=write:error=EIO:comm=write_until_err", "--", "sh", "-c",
                $"echo hi > {side}; {WhyfailRunner.Program("write_until_error")} {file} 2");
            Assert.True(run.ExitCode == 1, run.ToString()); // its first write failed; sh's echo did not
            Assert.Equal("hi\n", File.ReadAllText(side));
            Assert.All(Injected(run), e => Assert.Equal("write_until_err", e.GetProperty("comm").GetString()));
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>
    /// -u nobody: the launcher has dropped to nobody before it forks, and a non-root process may install a filter only with
    /// CAP_SYS_ADMIN or no_new_privs; whyfail keeps the capability for the fork only, so the command runs without
    /// no_new_privs (set-user-ID programs inside it still work) and with no capability.
    /// </summary>
    [Fact]
    public void Injection_works_as_nobody_without_no_new_privs_or_capabilities()
    {
        var dir = TempDir();
        try
        {
            var run = WhyfailRunner.Run("-u", "nobody", "--inject=write:error=ENOSPC:when=3", "--inject=mkdir:error=EROFS", "--", "sh", "-c",
                $"{WhyfailRunner.Program("write_until_error")} {Path.Combine(dir, "f")}; mkdir {Path.Combine(dir, "d")} 2>/dev/null || echo mkdir failed; " +
                "grep -E '^(Uid|NoNewPrivs|CapEff|CapPrm|Seccomp):' /proc/self/status");
            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.Contains("write 3: ENOSPC", run.Stdout);
            Assert.Contains("mkdir failed", run.Stdout);
            Assert.Matches(@"Uid:\s+65534\s", run.Stdout);
            Assert.Matches(@"NoNewPrivs:\s+0\n", run.Stdout);
            Assert.Matches(@"CapEff:\s+0000000000000000\n", run.Stdout);
            Assert.Matches(@"CapPrm:\s+0000000000000000\n", run.Stdout);
            Assert.Matches(@"Seccomp:\s+2\n", run.Stdout);
            // (mkdir's own error message, written in pieces, meets its 3rd write too: counted per thread)
            Assert.Contains(Injected(run), e => e.GetProperty("syscall").GetString() == "write" && e.GetProperty("comm").GetString() == "write_until_err");
            Assert.Contains(Injected(run), e => e.GetProperty("syscall").GetString() == "mkdir" && e.GetProperty("errno").GetString() == "EROFS");
            Assert.All(Injected(run), e => Assert.Equal(65534u, e.GetProperty("euid").GetUInt32()));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData("write", "add error=ERRNO or retval=N")]
    [InlineData("write:error=ENOSPX", "unknown errno 'ENOSPX'; did you mean ENOSPC")]
    [InlineData("wrte:error=EIO", "unknown syscall 'wrte'; did you mean write")]
    [InlineData("write:error=EIO:retval=1", "not several")]
    [InlineData("write:error=EIO:when=5..2", "LAST (2) is before FIRST (5)")]
    [InlineData("write:error=EIO:when=0", "FIRST must be 1..65535")]
    [InlineData("write:error=EIO:path=/x", "path= needs system calls with a path argument; write has none")]
    [InlineData("write:oops=1", "unknown key 'oops'")]
    public void Bad_inject_syntax_is_a_usage_error_naming_what_is_wrong(string spec, string message)
    {
        var psi = WhyfailRunner.StartInfo([$"--inject={spec}", "--", "true"]);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(1)));
        Assert.Equal(2, p.ExitCode);
        Assert.Contains($"--inject={spec}: ", stderr.Result);
        Assert.Contains(message, stderr.Result);
    }
}
